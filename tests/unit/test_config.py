"""Flux image automation config: parsing every apiVersion, defaults, and validation.

Documents are built as the YAML loader hands them over (plain dicts); the
seed tutorial's files are read from the repo's `cluster/` directory as they are.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_action.domain.config import (
    DEFAULT_NAMESPACE,
    Document,
    FluxConfig,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
    ObjectKey,
    Source,
    parse_document,
)
from gitops_action.domain.errors import (
    ConfigError,
    InvalidConfig,
    InvalidPattern,
    InvalidPolicy,
    InvalidRange,
    InvalidTemplate,
)
from gitops_action.domain.markers import Change, MarkerField, ObjectRef, PolicyRef, UpdateResult
from gitops_action.domain.policies import SemverPolicy, TagFilter, parse_order

REPO = Path(__file__).resolve().parents[2]
GROUP = "image.toolkit.fluxcd.io"


def seed_documents() -> list[Document]:
    """The seed tutorial's three files, exactly as committed."""
    documents = []
    for name in ("app-registry.yaml", "app-policy.yaml", "demo-automation.yaml"):
        text = (REPO / "cluster" / name).read_text()
        for number, data in enumerate(yaml.safe_load_all(text), start=1):
            documents.append(Document(Source(f"cluster/{name}", number, 2), data))
    return documents


def repository(version: str = "v1beta2", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "ImageRepository",
        "metadata": {"name": "app", "namespace": "flux-system"},
        "spec": {"image": "chripp/app", "interval": "30s", **spec},
    }


def policy(version: str = "v1beta2", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "ImagePolicy",
        "metadata": {"name": "app", "namespace": "flux-system"},
        "spec": {
            "imageRepositoryRef": {"name": "app"},
            "policy": {"semver": {"range": "^v1.0.0"}},
            **spec,
        },
    }


def automation(version: str = "v1beta2", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "ImageUpdateAutomation",
        "metadata": {"name": "auto", "namespace": "flux-system"},
        "spec": {
            "interval": "1m",
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
            "git": {
                "checkout": {"ref": {"branch": "main"}},
                "commit": {"author": {"name": "bot", "email": "bot@example.com"}},
            },
            **spec,
        },
    }


def doc(data: dict[str, Any], file: str = "cluster/app-policy.yaml", number: int = 1) -> Document:
    return Document(Source(file, number, 2), data)


def parse(data: dict[str, Any]) -> Any:
    return parse_document(doc(data))


def config(*objects: dict[str, Any]) -> FluxConfig:
    return FluxConfig.from_documents(doc(data, f"f{n}.yaml") for n, data in enumerate(objects))


# --- the seed tutorial -------------------------------------------------------------


def test_seed_tutorial_files_load_unchanged() -> None:
    loaded = FluxConfig.from_documents(seed_documents())
    key = ObjectKey("flux-system", "app")
    repo = loaded.repositories[key]
    assert (repo.image, str(repo.interval), repo.interval and repo.interval.seconds) == (
        "chripp/app",
        "30s",
        30.0,
    )
    assert repo.image_name is not None and repo.image_name.canonical == "docker.io/chripp/app"
    assert repo.effective_exclusion_list == (r"^.*\.sig$",)
    found = loaded.policy(PolicyRef("flux-system", "app"))
    assert found.repository == key
    assert found.policy_spec == {"kind": "semver", "range": "^v1.0.0"}
    assert loaded.repository_of(found) is repo
    (auto,) = loaded.automations
    assert auto.version == "v1beta1"
    assert (auto.checkout_branch, auto.effective_push_branch, auto.update_path) == (
        "main",
        "main",
        "cluster",
    )
    assert (auto.author_name, auto.author_email) == (
        "fluxcdbot",
        "fluxcdbot@users.noreply.github.com",
    )
    assert (auto.source_ref.kind, auto.source_ref.name) == ("GitRepository", "flux-system")
    assert loaded.policies_for(auto) == (found,)


def test_seed_policy_selects_like_flux() -> None:
    loaded = FluxConfig.from_documents(seed_documents())
    found = loaded.policy(ObjectKey("flux-system", "app"))
    tags = ["v1.0.0", "v1.10.0", "v1.9.0", "v2.0.0", "sha256-abc.sig", "latest"]
    assert loaded.select(found, tags).selected == "v1.10.0"


def test_seed_automation_renders_its_commit_message() -> None:
    (auto,) = FluxConfig.from_documents(seed_documents()).automations
    deployment = ObjectRef("Deployment", "default", "app", "apps/v1")
    result = UpdateResult(
        (
            Change(
                "deployment.yaml",
                20,
                PolicyRef("flux-system", "app"),
                MarkerField.FULL,
                "chripp/app:v1.0.0",
                "chripp/app:v1.0.1",
                "chripp/app:v1.0.1",
                deployment,
            ),
        )
    )
    assert auto.commit_message(result) == "chripp/app:v1.0.1\n"


# --- every apiVersion -----------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1beta1", "v1beta2", "v1"])
def test_every_version_of_every_kind_parses(version: str) -> None:
    repo = parse(repository(version))
    pol = parse(policy(version))
    auto = parse(automation(version))
    assert isinstance(repo, ImageRepository) and repo.version == version
    assert isinstance(pol, ImagePolicy) and pol.api_version == f"{GROUP}/{version}"
    assert isinstance(auto, ImageUpdateAutomation) and auto.version == version
    assert auto.message_template == ""
    assert auto.commit_message(UpdateResult()) == "Update from image update automation"


def test_v1_automation_fields() -> None:
    data = automation(
        "v1",
        policySelector={
            "matchLabels": {"team": "web"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
        },
    )
    data["spec"]["git"]["commit"]["messageTemplate"] = (
        "{{ .Values.cluster }}: {{ len .Changed.Changes }}"
    )
    data["spec"]["git"]["commit"]["messageTemplateValues"] = {"cluster": "prod"}
    data["spec"]["git"]["push"] = {"branch": "auto", "refspec": "refs/heads/auto:refs/heads/x"}
    auto = parse(data)
    assert auto.message_template_values == {"cluster": "prod"}
    assert (auto.push_branch, auto.effective_push_branch, auto.push_refspec) == (
        "auto",
        "auto",
        "refs/heads/auto:refs/heads/x",
    )
    assert auto.commit_message(UpdateResult()) == "prod: 0"
    selector = auto.policy_selector
    assert selector is not None
    assert selector.matches({"team": "web", "tier": "front"})
    assert not selector.matches({"team": "web", "tier": "db"})
    assert not selector.matches({"team": "api"})


def test_policies_for_an_automation_are_its_namespace_and_selector() -> None:
    def labelled(name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
        data = policy()
        data["metadata"] = {"name": name, "namespace": namespace, "labels": labels}
        data["spec"]["imageRepositoryRef"] = {"name": "app", "namespace": "flux-system"}
        return data

    selecting = automation("v1", policySelector={"matchLabels": {"team": "web"}})
    loaded = config(
        repository(),
        labelled("web", "flux-system", {"team": "web"}),
        labelled("api", "flux-system", {"team": "api"}),
        labelled("other", "apps", {"team": "web"}),
        selecting,
    )
    (auto,) = loaded.automations
    assert [p.key.name for p in loaded.policies_for(auto)] == ["web"]


# --- defaults -------------------------------------------------------------------------------


def test_missing_namespace_defaults_to_flux_system_or_the_callers_choice() -> None:
    data = repository()
    del data["metadata"]["namespace"]
    assert parse(data).key == ObjectKey(DEFAULT_NAMESPACE, "app")
    assert parse_document(doc(data), default_namespace="apps").key == ObjectKey("apps", "app")


def test_repository_ref_namespace_defaults_to_the_policys() -> None:
    data = policy()
    data["metadata"]["namespace"] = "apps"
    assert parse(data).repository == ObjectKey("apps", "app")
    data["spec"]["imageRepositoryRef"]["namespace"] = "images"
    assert parse(data).repository == ObjectKey("images", "app")


def test_exclusion_list_default_and_replacement() -> None:
    default = parse(repository())
    assert default.exclusion_list is None
    assert default.effective_exclusion_list == (r"^.*\.sig$",)
    # Flux's GetExclusionList: an empty list also means the default.
    assert parse(repository(exclusionList=[])).effective_exclusion_list == (r"^.*\.sig$",)
    custom = parse(repository(exclusionList=["^dev-"]))
    assert custom.exclusion_list == ("^dev-",)
    assert custom.effective_exclusion_list == ("^dev-",)


def test_exclusion_list_applies_to_selection() -> None:
    loaded = config(repository(exclusionList=["^v1\\.2"]), policy())
    found = loaded.policy(ObjectKey("flux-system", "app"))
    assert loaded.select(found, ["v1.1.0", "v1.2.0", "v1.2.1.sig"]).selected == "v1.1.0"


def test_filter_tags_and_orders_become_selection_objects() -> None:
    data = policy(
        policy={"numerical": {"order": "desc"}},
        filterTags={"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"},
    )
    found = parse(data)
    assert isinstance(found.tag_filter, TagFilter)
    assert found.policy_spec == {"kind": "numerical", "order": "desc"}
    selection = found.select(["main-abc-200", "main-def-100", "dev-1-1"], parse(repository()))
    assert selection.selected == "main-def-100"  # desc: the lowest number wins
    alphabetical = parse(policy(policy={"alphabetical": {}}))
    assert alphabetical.policy_spec == {"kind": "alphabetical", "order": "asc"}


def test_other_repository_fields() -> None:
    repo = parse(
        repository(
            "v1",
            image="ghcr.io/acme/app",
            timeout="1m30s",
            secretRef={"name": "creds"},
            certSecretRef={"name": "ca"},
            insecure=True,
            suspend=True,
            provider="aws",
        )
    )
    assert repo.timeout is not None and repo.timeout.seconds == 90.0
    assert (repo.secret_ref, repo.cert_secret_ref, repo.insecure, repo.suspend, repo.provider) == (
        "creds",
        "ca",
        True,
        True,
        "aws",
    )


def test_policy_suspend_and_ignored_digest_reflection() -> None:
    found = parse(policy("v1", suspend=True, digestReflectionPolicy="Always", interval="10m"))
    assert found.suspend is True


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("./", "."),
        ("", "."),
        ("./cluster", "cluster"),
        ("cluster/", "cluster"),
        ("/apps/x/../y", "apps/y"),
    ],
)
def test_update_path_is_normalised_relative_to_the_repo(path: str, expected: str) -> None:
    assert parse(automation(update={"path": path, "strategy": "Setters"})).update_path == expected


def test_push_branch_defaults_to_the_checkout_branch() -> None:
    auto = parse(automation())
    assert (auto.push_branch, auto.effective_push_branch) == (None, "main")
    no_checkout = automation()
    del no_checkout["spec"]["git"]["checkout"]
    assert parse(no_checkout).effective_push_branch is None


def test_documents_of_other_groups_are_ignored() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"}}
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    assert parse(deployment) is None
    assert parse(kustomization) is None
    loaded = FluxConfig.from_documents([doc(deployment), doc(repository())])
    assert list(loaded.repositories) == [ObjectKey("flux-system", "app")]


# --- validation: every error names file, document, object and field --------------------------


PREFIX = "cluster/app-policy.yaml: document 1 (ImagePolicy flux-system/app): "


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(data)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_bad_range_reads_like_the_policy_command() -> None:
    with pytest.raises(InvalidRange) as direct:
        SemverPolicy.from_range("banana")
    message = error_of(policy(policy={"semver": {"range": "banana"}}))
    assert message == f"{PREFIX}spec.policy.semver.range: {direct.value}"
    assert "invalid semver range 'banana'" in message


def test_bad_order_and_regexes_read_like_the_policy_command() -> None:
    with pytest.raises(InvalidPolicy) as direct:
        parse_order("up")
    assert error_of(policy(policy={"alphabetical": {"order": "up"}})) == (
        f"{PREFIX}spec.policy.alphabetical.order: {direct.value}"
    )
    with pytest.raises(InvalidPattern) as pattern:
        TagFilter.compile("(unclosed")
    assert error_of(policy(filterTags={"pattern": "(unclosed"})) == (
        f"{PREFIX}spec.filterTags.pattern: {pattern.value}"
    )
    assert error_of(
        policy(filterTags={"pattern": "^(?P<ts>[0-9]+)$", "extract": "$nope"})
    ).startswith(f"{PREFIX}spec.filterTags.extract: invalid extract template '$nope'")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["spec"].update(policy={"regex": {}}),
            "spec.policy: unknown policy kind 'regex'",
        ),
        (lambda d: d["spec"].update(policy={}), "spec.policy: no policy given"),
        (
            lambda d: d["spec"].update(policy={"semver": {"range": "1.x"}, "numerical": {}}),
            "spec.policy: more than one policy given (semver, numerical)",
        ),
        (
            lambda d: d["spec"].update(policy={"semver": {}}),
            "spec.policy.semver.range: required field is missing",
        ),
        (
            lambda d: d["spec"].update(policy={"semver": {"range": 1}}),
            "spec.policy.semver.range: must be a string, not a number",
        ),
        (
            lambda d: d["spec"].pop("imageRepositoryRef"),
            "spec.imageRepositoryRef: required field is missing",
        ),
        (
            lambda d: d["spec"].update(imageRepositoryRef={}),
            "spec.imageRepositoryRef.name: required field is missing",
        ),
        (lambda d: d["spec"].update(suspend="yes"), "spec.suspend: must be true or false"),
        (lambda d: d.pop("spec"), "spec: required field is missing"),
    ],
)
def test_policy_errors_name_the_field(mutate: Any, expected: str) -> None:
    data = policy()
    mutate(data)
    assert error_of(data).startswith(PREFIX + expected)


REPO_PREFIX = "cluster/app-policy.yaml: document 1 (ImageRepository flux-system/app): "


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"image": "chripp/app:v1"}, "spec.image: image 'chripp/app:v1' must not carry a tag"),
        ({"image": "Chripp/App"}, "spec.image: image 'Chripp/App' has an invalid repository path"),
        ({"image": None}, "spec.image: required field is missing"),
        ({"interval": None}, "spec.interval: required field is missing"),
        ({"interval": "30 seconds"}, "spec.interval: invalid duration '30 seconds'"),
        ({"timeout": "1h"}, None),
        (
            {"exclusionList": ["ok", "(bad"]},
            "spec.exclusionList[1]: invalid exclusionList regex '(bad'",
        ),
        ({"exclusionList": "^x"}, "spec.exclusionList: must be a list of strings, not a string"),
        ({"insecure": "true"}, "spec.insecure: must be true or false, not a string ('true')"),
        ({"provider": "oracle"}, "spec.provider: unknown provider 'oracle'"),
        ({"secretRef": {}}, "spec.secretRef.name: required field is missing"),
    ],
)
def test_repository_errors_name_the_field(spec: dict[str, Any], expected: str | None) -> None:
    data = repository(**spec)
    if expected is None:
        assert isinstance(parse(data), ImageRepository)
        return
    assert error_of(data).startswith(REPO_PREFIX + expected)


AUTO_PREFIX = "cluster/app-policy.yaml: document 1 (ImageUpdateAutomation flux-system/auto): "


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda s: s.pop("git"), "spec.git: required field is missing"),
        (
            lambda s: s["git"]["commit"]["author"].pop("email"),
            "spec.git.commit.author.email: required field is missing",
        ),
        (lambda s: s.pop("sourceRef"), "spec.sourceRef: required field is missing"),
        (
            lambda s: s.update(sourceRef={"kind": "Bucket", "name": "b"}),
            "spec.sourceRef.kind: source kind 'Bucket' is not supported",
        ),
        (lambda s: s.pop("interval"), "spec.interval: required field is missing"),
        (
            lambda s: s.update(update={"path": "../other"}),
            "spec.update.path: '../other' leaves the repository",
        ),
        (
            lambda s: s.update(update={"strategy": "Patches"}),
            "spec.update.strategy: unknown strategy 'Patches'",
        ),
        (
            lambda s: s.update(
                policySelector={"matchExpressions": [{"key": "a", "operator": "Has"}]}
            ),
            "spec.policySelector.matchExpressions[0].operator: unknown operator 'Has'",
        ),
        (
            lambda s: s["git"]["commit"].update(messageTemplateValues={"n": 1}),
            "spec.git.commit.messageTemplateValues.n: must be a string, not a number",
        ),
    ],
)
def test_automation_errors_name_the_field(mutate: Any, expected: str) -> None:
    data = automation()
    mutate(data["spec"])
    assert error_of(data).startswith(AUTO_PREFIX + expected)


def test_template_syntax_errors_fail_at_load_with_the_position() -> None:
    data = automation()
    data["spec"]["git"]["commit"]["messageTemplate"] = (
        "Update\n{{ range .Updated.Images }}{{ foo . }}"
    )
    with pytest.raises(InvalidTemplate) as caught:
        parse(data)
    assert str(caught.value) == (
        f"{AUTO_PREFIX}spec.git.commit.messageTemplate: line 2, column 31: "
        'function "foo" not defined (a Go builtin or Sprig function this tool does not support; '
        "see docs/templates.md)"
    )


def test_template_execution_errors_name_the_automation() -> None:
    data = automation()
    data["spec"]["git"]["commit"]["messageTemplate"] = "{{ .Updated.Nope }}"
    auto = parse(data)
    with pytest.raises(
        InvalidTemplate,
        match=r"\(ImageUpdateAutomation flux-system/auto\): "
        r"spec\.git\.commit\.messageTemplate: line 1, column 4: "
        r"can't evaluate field Nope in type update\.Result",
    ):
        auto.commit_message(UpdateResult())


def test_unknown_api_version_of_a_known_kind_names_the_version() -> None:
    message = error_of(policy("v1alpha1"))
    assert message == (
        f"{PREFIX}apiVersion: {GROUP}/v1alpha1 is not supported for ImagePolicy "
        "(version v1alpha1; supported: v1beta1, v1beta2, v1)"
    )


def test_unknown_kind_of_the_group_is_an_error() -> None:
    data = policy()
    data["kind"] = "ImagePolicies"
    assert error_of(data) == (
        "cluster/app-policy.yaml: document 1 (ImagePolicies): kind: 'ImagePolicies' is not a kind "
        f"of {GROUP} (expected one of ImageRepository, ImagePolicy, ImageUpdateAutomation)"
    )


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({}, "metadata.name: required field is missing"),
        ({"name": "App"}, "metadata.name: 'App' is not a valid Kubernetes name"),
        (
            {"name": "app", "namespace": "a.b"},
            "metadata.namespace: 'a.b' is not a valid Kubernetes name",
        ),
        ({"name": "app", "labels": {"a": 1}}, "metadata.labels.a: must be a string"),
    ],
)
def test_metadata_errors(metadata: dict[str, Any], expected: str) -> None:
    data = policy()
    data["metadata"] = metadata
    assert error_of(data).startswith(
        "cluster/app-policy.yaml: document 1 (ImagePolicy): " + expected
    )


def test_policy_pointing_at_a_missing_repository_names_both() -> None:
    data = policy()
    data["spec"]["imageRepositoryRef"] = {"name": "appp"}
    with pytest.raises(InvalidConfig) as caught:
        config(repository(), data)
    assert str(caught.value) == (
        "f1.yaml: document 1 (ImagePolicy flux-system/app): spec.imageRepositoryRef: "
        "ImageRepository flux-system/appp is not in the config (no such object under the "
        "directory read)"
    )


def test_duplicate_objects_name_both_places() -> None:
    twin = copy.deepcopy(repository())
    with pytest.raises(InvalidConfig) as caught:
        FluxConfig.from_documents([doc(repository(), "a.yaml", 1), doc(twin, "b.yaml", 3)])
    assert str(caught.value) == (
        "b.yaml: document 3 (ImageRepository flux-system/app): metadata.name: duplicate "
        "ImageRepository flux-system/app, already defined in a.yaml: document 1"
    )
    # The same name in another kind or namespace is no duplicate.
    other_namespace = repository()
    other_namespace["metadata"]["namespace"] = "apps"
    assert len(config(repository(), other_namespace, policy()).repositories) == 2


def test_asking_for_a_policy_that_is_not_there() -> None:
    loaded = config(repository(), policy())
    assert loaded.find_policy(PolicyRef("flux-system", "nope")) is None
    with pytest.raises(InvalidConfig, match="ImagePolicy flux-system/nope is not in the config"):
        loaded.policy(PolicyRef("flux-system", "nope"))


def test_validation_errors_are_config_errors() -> None:
    assert issubclass(InvalidConfig, ConfigError)
    assert issubclass(InvalidTemplate, ConfigError)
