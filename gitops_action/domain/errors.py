"""The one error root and its families.

Every failure the tool expects is a `GitopsError`. The CLI maps families to
exit codes in exactly one place (`gitops_action.cli.errors`), so a new error
only has to pick the right family here: `ConfigError` for input the user must
fix (exit 2), `OperationFailed` for a run that could not do its job (exit 1).
Anything that is not a `GitopsError` is a bug (exit 3).

Messages are one line and name the file, line or object at fault; they must
never contain a secret (adapters redact credentials before raising).
"""

from __future__ import annotations


class GitopsError(Exception):
    """Root of every error the tool raises on purpose."""


class ConfigError(GitopsError):
    """Bad input the user must fix: flags, ranges, regexes, YAML, markers."""


class OperationFailed(GitopsError):
    """The run could not do its job: nothing matched, tests failed, a service refused."""


class InvalidRange(ConfigError):
    """A semver range that does not parse."""


class InvalidPattern(ConfigError):
    """A regular expression or extract template that does not compile."""


class InvalidManifest(ConfigError):
    """A YAML file or marker that cannot be read; names the file and line."""


class NoMatch(OperationFailed):
    """No candidate satisfied the policy."""


class InvalidSetting(ConfigError):
    """An `update --set` value that does not read as NS:NAME=IMAGE:TAG."""


class CheckFailed(ConfigError):
    """`check` found problems in the config repository (each printed; exit 2)."""


class FilesSkipped(OperationFailed):
    """`update` wrote what it could but skipped marked files it could not read (exit 1)."""


class FileWriteFailed(OperationFailed):
    """A planned manifest edit could not be written to disk."""


class InvalidImageReference(ConfigError):
    """An image name that breaks the docker reference grammar, or has a tag where none belongs."""


class InvalidGitRef(ConfigError):
    """A git ref or commit SHA given to the CI half that cannot name a build."""


class GitHubApiError(OperationFailed):
    """The GitHub API refused or failed a request (names the endpoint, never the token)."""


class InvalidPolicy(ConfigError):
    """An image policy that cannot be used as given (e.g. an order other than asc/desc)."""


class RegistryError(OperationFailed):
    """A container registry refused or failed a request; names image, registry and status."""


class InvalidDockerConfig(ConfigError):
    """A docker config or dockerconfigjson document that cannot be read (never shows a secret)."""


class InvalidConfig(ConfigError):
    """A Flux object in the config repo that cannot be used; names file, document, object, field."""


class InvalidTemplate(ConfigError):
    """A commit message template that does not parse or render; names the template and position."""


class InvalidBuildInput(ConfigError):
    """A `ci run` build input that cannot work: missing context or Dockerfile, bad build arg,
    a platform the engine cannot build, credentials given by halves."""


class ProjectTestsFailed(OperationFailed):
    """The project's test command exited non-zero (named so pytest does not collect it)."""


class DockerEngineError(OperationFailed):
    """The docker engine could not be reached, or refused a request (names DOCKER_HOST)."""


class BuildFailed(OperationFailed):
    """`docker build` of the image failed (names the step docker reported)."""


class RegistryLoginFailed(OperationFailed):
    """A registry refused the credentials; nothing is pushed anywhere when this happens."""


class PushFailed(OperationFailed):
    """Pushing a tag to a registry failed (names the reference)."""


class GitError(OperationFailed):
    """A git command failed (clone, fetch, commit, push); names the remote, never a credential."""


class PushRejected(GitError):
    """The remote refused a push because the branch moved (not a fast-forward); re-plan."""


class PullSecretError(OperationFailed):
    """An ImageRepository secretRef Secret could not be read or has no docker config in it."""


class HoldFailed(OperationFailed):
    """A hold could not be written to (or removed from) an ImageRepository's exclusionList."""


class AutomationFailed(OperationFailed):
    """Some policies failed in an automation run (the others were still applied)."""


class InvalidSyncInput(ConfigError):
    """A `sync` flag or manifest tree that cannot be synced: a bad --timeout or --inventory,
    an unsupported or remote kustomization entry, two documents for the same object."""


class UnknownKind(ConfigError):
    """A manifest whose apiVersion/kind the cluster does not serve (names file and document)."""


class KubeConfigError(ConfigError):
    """No usable kubeconfig or in-cluster config, or an unknown --context."""


class KubeApiError(OperationFailed):
    """The Kubernetes API refused or failed a request; names the verb and the object."""


class KubeInvalid(KubeApiError):
    """The API answered 422: the object is invalid, or changes an immutable field."""


class KubeForbidden(KubeApiError):
    """RBAC refused a request: names the verb, resource, group and namespace that are missing."""


class SyncUnhealthy(OperationFailed):
    """Applied workloads did not become healthy within --timeout; names each and why."""


class CanaryTargetMissing(ConfigError):
    """A Canary whose targetRef Deployment is not in the cluster, or a --name no Canary has."""


class MetricQueryFailed(OperationFailed):
    """A metrics provider could not answer a query (down, error, no data); a failed check."""


class CanaryRolledBack(OperationFailed):
    """A canary analysis failed this run and was rolled back (names each canary)."""


class InvalidInstallOption(ConfigError):
    """An `install` flag that would render manifests a cluster rejects, or no --export."""


class KubeConflict(KubeApiError):
    """The API answered 409: the object exists, or changed since it was read (a lost race)."""


class ReconcileFailed(OperationFailed):
    """A reconcile phase failed (the others still ran); names each failed phase."""


class ReconcileConfigError(ConfigError):
    """A reconcile phase stopped on bad config (the others still ran); names the phase."""
