"""The README's main job: the whole GitOps loop on this machine, no cloud account.

Run by `bash scripts/demo.sh` after bootstrap (or `.venv/bin/python scripts/demo.py`).

What it does, on free 127.0.0.1 ports and in one temp dir:
  1. starts the real services the tests use (testbed/): the Distribution
     registry with an htpasswd user, a private dockerd that trusts it over plain
     HTTP, and a git smart-HTTP server with Basic auth;
  2. creates an "app" repo (a FROM scratch Dockerfile and a test script) and a
     "config" repo seeded from the tutorial's cluster/ files, with the image
     pointed at the local registry;
  3. releases v1.0.0 with `gitops-action ci run` as a GitHub tag event (tests,
     a real dockerd build, a push of every tag), then runs `reconcile`;
  4. releases v1.1.0 the same way, runs `reconcile` again, and shows the bump
     commit and its one-line diff;
  5. applies to the cluster in KUBECONFIG when one is set; otherwise to a real
     Kubernetes control plane started here (testbed/kube_cluster.py: etcd,
     kube-apiserver, controller-manager, scheduler, kwok nodes; built once from
     their Go modules), and shows the Deployment rolled out with ready pods;
  6. prints a summary and stops everything it started (by PID), even on a
     failure or Ctrl-C.

`reconcile` is `gitops-action reconcile` when this version has it, else the same
phases as `gitops-action automate` then `gitops-action sync` (there is no canary
in the seed config). The demo says which path it took.

Why a test-support import here: the demo must show the real thing, so it starts
the very launchers the integration tests use instead of a second copy of them.
The package itself never imports tests/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `testbed` importable
    sys.path.insert(0, str(ROOT))

from testbed.dockerd import DockerEngine  # noqa: E402
from testbed.git_server import GitHttpServer  # noqa: E402
from testbed.gitenv import git_env, run_git  # noqa: E402
from testbed.githubapi.runner import parse_file_command  # noqa: E402
from testbed.go_tools import program  # noqa: E402
from testbed.process import start_with_port_retry  # noqa: E402
from testbed.registry import RegistryService  # noqa: E402

CONSOLE = Path(sys.executable).with_name("gitops-action")
CLUSTER = ROOT / "cluster"
SEED_FILES = ("deployment.yaml", "app-registry.yaml", "app-policy.yaml", "demo-automation.yaml")
IMAGE_REPO = "demo/app"
REAL_NAMESPACE = "gitops-demo"  # where the app goes on a real cluster (KUBECONFIG set)
BOT_NAME = "fluxcdbot"  # the seed ImageUpdateAutomation's commit author
DEMO_SHA_EVENT = "push"
# The tools pick their own identity (the automation's author) and the real clock.
_IDENTITY = ("GIT_AUTHOR_", "GIT_COMMITTER_")

APP_FILES = {
    "Dockerfile": "FROM scratch\nCOPY VERSION /VERSION\n",
    "test.sh": '#!/bin/sh\n# The app\'s "tests": VERSION holds a semantic version.\n'
    "grep -Eq '^[0-9]+\\.[0-9]+\\.[0-9]+$' VERSION\n",
}


class DemoError(RuntimeError):
    """A step of the demo failed; the message says which and shows its output."""


def say(text: str) -> None:
    """A progress heading (bold on a terminal)."""
    if sys.stdout.isatty():
        print(f"\n\033[1m== {text}\033[0m", flush=True)
    else:
        print(f"\n== {text}", flush=True)


def info(text: str) -> None:
    print(f"   {text}", flush=True)


def indent(text: str, prefix: str = "   | ") -> str:
    return "\n".join(prefix + line for line in text.rstrip("\n").splitlines())


@dataclass
class Outcome:
    """What the run produced, for the summary (and the e2e test)."""

    releases: dict[str, dict[str, str]] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    reconcile_path: str = ""
    cluster: str = ""
    rollout: str = ""


class Demo:
    """The demo's state: the services, the repos, the environment for the CLI."""

    def __init__(self, work: Path, stack: contextlib.ExitStack) -> None:
        self.work = work
        self.stack = stack
        self.outcome = Outcome()
        self.genv = git_env(work / "home", date=_now())
        self.human = {
            **self.genv,
            "GIT_AUTHOR_NAME": "Demo Developer",
            "GIT_AUTHOR_EMAIL": "dev@demo.example",
            "GIT_COMMITTER_NAME": "Demo Developer",
            "GIT_COMMITTER_EMAIL": "dev@demo.example",
        }
        for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # real clock for a demo
            self.human.pop(key, None)
        self.registry: RegistryService
        self.dockerd: DockerEngine
        self.git: GitHttpServer
        self.kubeconfig: Path
        self.real_cluster = False
        self.plane: Any = None
        self.tool_namespace = "gitops-system"  # the Lease, status and inventory live here

    # -- services ---------------------------------------------------------
    def start_services(self) -> None:
        say("Starting the real services the tests use (testbed/), on 127.0.0.1")
        began = time.monotonic()
        self.registry = start_with_port_retry(lambda: RegistryService(self.work / "registry"))
        self.stack.callback(self.registry.stop)
        info(
            f"registry  http://{self.registry.host}  (Distribution, htpasswd user "
            f"{self.registry.username!r}, pid {self.registry.process.pid})"
        )
        # The server's env is the developer's: repos it seeds are their commits.
        self.git = start_with_port_retry(lambda: GitHttpServer(self.work / "git", self.human))
        self.stack.callback(self.git.stop)
        info(
            f"git       {self.git.url}  (git http-backend, Basic auth user "
            f"{self.git.username!r}, pid {self.git.process.pid})"
        )
        self.dockerd = DockerEngine(self.work / "dockerd", insecure_registry=self.registry.host)
        self.stack.callback(self.dockerd.stop)
        print(f"demo: dockerd dir {self.dockerd.dir} (removed at the end)", flush=True)
        self.dockerd.start()
        info(
            f"dockerd   {self.dockerd.docker_host}  (--insecure-registry "
            f"{self.registry.host}, pid {self.dockerd.process.pid})"
        )
        info(f"ready in {time.monotonic() - began:.1f}s")

    def start_cluster(self) -> None:
        given = os.environ.get("KUBECONFIG", "")
        if given:
            self.kubeconfig = Path(given.split(os.pathsep)[0])
            self.real_cluster = True
            self.outcome.cluster = f"the cluster in KUBECONFIG ({given})"
            say(f"KUBECONFIG is set: syncing to that cluster ({given})")
            info(
                f"the app goes to namespace {REAL_NAMESPACE} (not the seed's `default`, so "
                "nothing of yours is touched); it stays there after the demo:"
            )
            info(f"  kubectl delete namespace {REAL_NAMESPACE}   # to remove it")
            self.tool_namespace = REAL_NAMESPACE
            info(
                "on real nodes its pods cannot start (the image is FROM scratch, in a registry on "
                "this machine's 127.0.0.1): sync then reports it unhealthy, the demo goes on"
            )
            return
        from testbed.kube_cluster import KUBERNETES_VERSION, ControlPlane

        say("No KUBECONFIG: starting a real Kubernetes control plane on 127.0.0.1")
        plane = ControlPlane(self.work / "cluster")
        self.stack.callback(plane.stop)
        plane.start()
        self.plane = plane
        self.kubeconfig = plane.kubeconfig
        self.outcome.cluster = (
            f"a real Kubernetes {KUBERNETES_VERSION} control plane on this machine "
            "(etcd, kube-apiserver, controller-manager, scheduler; kwok plays the nodes)"
        )
        info(f"{plane.url}: {', '.join(p.name for p in plane.processes.values())}")
        info("kwok runs the pods without pulling images, so rollouts really complete")

    def ensure_tool_namespace(self) -> None:
        """Create the tool's namespace, as `gitops-action install` would in a cluster.

        reconcile takes its Lease there before it syncs anything, so it must exist.
        """
        from kubernetes import client, config
        from kubernetes.client.exceptions import ApiException

        api = config.new_client_from_config(str(self.kubeconfig))  # type: ignore[no-untyped-call]
        try:
            body = client.V1Namespace(metadata=client.V1ObjectMeta(name=self.tool_namespace))
            client.CoreV1Api(api).create_namespace(body)
            info(f"created namespace {self.tool_namespace} (the tool's Lease, status, inventory)")
        except ApiException as err:
            if err.status != 409:
                raise DemoError(f"cannot create namespace {self.tool_namespace}: {err}") from err
        finally:
            api.close()

    # -- repositories -------------------------------------------------------
    @property
    def image(self) -> str:
        return f"{self.registry.host}/{IMAGE_REPO}"

    def seed_config_repo(self) -> None:
        say("Config repo: the tutorial's cluster/ files, image pointed at the local registry")
        files = {f"cluster/{name}": (CLUSTER / name).read_text() for name in SEED_FILES}
        registry_yaml = files["cluster/app-registry.yaml"].replace(
            "image: chripp/app", f"image: {self.image}"
        )
        # Flux's own switch for a plain-HTTP registry.
        registry_yaml = registry_yaml.replace(
            "  interval: 30s", "  insecure: true\n  interval: 30s"
        )
        files["cluster/app-registry.yaml"] = registry_yaml
        files["cluster/deployment.yaml"] = files["cluster/deployment.yaml"].replace(
            "image: chripp/app:v1.0.0", f"image: {self.image}:v1.0.0"
        )
        if self.image not in registry_yaml or "insecure: true" not in registry_yaml:
            raise DemoError("cluster/app-registry.yaml no longer has the seed's shape")
        if self.real_cluster:
            files["cluster/deployment.yaml"] = files["cluster/deployment.yaml"].replace(
                "namespace: default", f"namespace: {REAL_NAMESPACE}"
            )
            files["cluster/namespace.yaml"] = (
                f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {REAL_NAMESPACE}\n"
            )
        self.git.repos.create("config")
        self.git.repos.seed("config", files, message="seed: the tutorial's cluster/ config")
        info(f"{self.git.repo_url('config', auth=False)}: {', '.join(sorted(files))}")
        marked = next(
            line.strip()
            for line in files["cluster/deployment.yaml"].splitlines()
            if "$imagepolicy" in line
        )
        info(f"marked line: {marked}")

    def create_app_repo(self) -> None:
        say("App repo: a FROM scratch Dockerfile and a test script")
        self.git.repos.create("app")
        self.app_dir = self.work / "app"
        run_git("clone", "--quiet", self.git.repo_url("app"), str(self.app_dir), env=self.human)
        for name, content in APP_FILES.items():
            (self.app_dir / name).write_text(content)
        info(f"{self.git.repo_url('app', auth=False)}: Dockerfile, test.sh, VERSION")

    def tag_release(self, version: str) -> str:
        """Commit VERSION, tag vX.Y.Z, push both; returns the tagged commit."""
        (self.app_dir / "VERSION").write_text(version.removeprefix("v") + "\n")
        run_git("add", "--all", cwd=self.app_dir, env=self.human)
        run_git("commit", "--quiet", "-m", f"release {version}", cwd=self.app_dir, env=self.human)
        run_git("tag", "-a", version, "-m", version, cwd=self.app_dir, env=self.human)
        run_git("push", "--quiet", "origin", "main", version, cwd=self.app_dir, env=self.human)
        return run_git("rev-parse", "HEAD", cwd=self.app_dir, env=self.human).stdout.strip()

    # -- CI: ci run on a tag event ------------------------------------------
    def release(self, version: str) -> None:
        say(f"Release {version}: git tag + push, then `gitops-action ci run` as the tag event")
        sha = self.tag_release(version)
        workspace = self.work / f"ws-{version}"
        run_git(
            "clone", "--quiet", "--branch", version, self.git.repo_url("app"), str(workspace),
            env=self.human,
        )  # fmt: skip
        files = self.work / f"gh-{version}"
        files.mkdir()
        event = files / "event.json"
        event.write_text(_tag_event(version, sha))
        env = {
            **_clean_env(),
            "DOCKER_HOST": self.dockerd.docker_host,
            "GITHUB_EVENT_NAME": DEMO_SHA_EVENT,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REF": f"refs/tags/{version}",
            "GITHUB_SHA": sha,
            "GITHUB_REPOSITORY": "demo/app",
            "GITHUB_SERVER_URL": "http://" + self.git.host,
            "GITHUB_RUN_ID": "1",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(files / "output"),
            "GITHUB_STEP_SUMMARY": str(files / "summary.md"),
            "GITOPS_IMAGE": self.image,
            "GITOPS_TEST_COMMAND": "sh test.sh",
            "GITOPS_BOT": BOT_NAME,
            "GITOPS_REGISTRY_USERNAME": self.registry.username,
            "GITOPS_REGISTRY_PASSWORD": self.registry.password,
        }
        run_cli(["ci", "run"], env=env, cwd=workspace, label=f"ci run ({version})", brief=True)
        outputs = parse_file_command((files / "output").read_text())
        if outputs.get("skipped") != "false" or not outputs.get("digest"):
            raise DemoError(f"ci run for {version} pushed nothing: outputs {outputs}")
        tags = outputs["tags"].split()
        listed = self.registry.list_tags(IMAGE_REPO)
        info(f"registry now lists {IMAGE_REPO}: {', '.join(listed)}")
        self.outcome.releases[version] = {"digest": outputs["digest"], "tags": " ".join(tags)}

    # -- CD: reconcile (or automate + sync) ---------------------------------
    def cd_env(self) -> dict[str, str]:
        docker_config = self.work / "docker-config"
        if not (docker_config / "config.json").exists():
            self.registry.write_docker_config(docker_config)
        unpinned = {k: v for k, v in self.genv.items() if not k.startswith(_IDENTITY)}
        return {
            **_clean_env(unpinned),
            "GITOPS_REPO": self.git.repo_url("config", auth=False),
            "GITOPS_BRANCH": "main",
            "GITOPS_PATH": "cluster",
            "GITOPS_GIT_USERNAME": self.git.username,
            "GITOPS_GIT_PASSWORD": self.git.password,
            "GITOPS_CACHE_DIR": str(self.work / "cache"),
            "DOCKER_CONFIG": str(docker_config),
            "KUBECONFIG": str(self.kubeconfig),
            "GITOPS_NAMESPACE": self.tool_namespace,
            # sync builds with kustomize at Flux's version, built by bootstrap (tools/).
            "GITOPS_KUSTOMIZE": str(program("kustomize", "kustomize")),
            # A real cluster never sees the demo's pods healthy: do not wait the default 2m.
            "GITOPS_SYNC_TIMEOUT": "20s" if self.real_cluster else "30s",
        }

    def reconcile(self, round_no: int) -> None:
        env = self.cd_env()
        if has_reconcile(env):
            self.outcome.reconcile_path = "gitops-action reconcile"
            say(f"Reconcile #{round_no}: `gitops-action reconcile` (automate, sync, canary)")
            out = run_cli(
                ["reconcile"],
                merged=True, env=env, label=f"reconcile #{round_no}",
                unhealthy_ok=self.real_cluster,
            )  # fmt: skip
            self.record_applied(out)
            return
        self.outcome.reconcile_path = "gitops-action automate + sync (its phases, one by one)"
        say(
            f"Reconcile #{round_no}: `gitops-action reconcile` is not used (missing in this "
            "version, or GITOPS_DEMO_PHASES=1): running its phases, `automate` then `sync`"
        )
        run_cli(["automate"], env=env, label=f"automate #{round_no}")
        checkout = self.work / f"checkout-{round_no}"
        run_git("clone", "--quiet", "--depth", "1", env["GITOPS_REPO"], str(checkout),
                env={**env, **_askpass(self.work, self.git)})  # fmt: skip
        timeout = "20s" if self.real_cluster else "30s"
        out = run_cli(
            [
                "sync",
                str(checkout / "cluster"),
                "--timeout",
                timeout,
                "--inventory",
                f"{self.tool_namespace}/gitops-action-inventory",
            ],
            env=env,
            label="sync",
            unhealthy_ok=self.real_cluster,
        )
        self.record_applied(out)

    def record_applied(self, output: str) -> None:
        """Per-object lines from sync; reconcile's own `sync: ...` line when it ran."""
        for line in output.splitlines():
            if line.startswith("sync:"):
                self.outcome.applied.append(f"reconcile {line}")
                continue
            match = re.match(r"^\s*(\S+/\S+)\s+(created|configured|unchanged|pruned)\b", line)
            if match:
                self.outcome.applied.append(f"{match.group(1)} {match.group(2)}")

    def show_history(self) -> None:
        say("Config repo history (git log), and the bump commit")
        bare = str(self.git.repos.path("config"))
        log = run_git(
            "--git-dir", bare, "log", "--format=%h %an <%ae>%n    %B", "main", env=self.genv
        ).stdout
        print(indent(re.sub(r"\n\s*\n", "\n", log)), flush=True)
        bots = run_git(
            "--git-dir", bare, "log", f"--author={BOT_NAME}", "--format=%H", "main",
            env=self.genv,
        ).stdout.split()  # fmt: skip
        if not bots:
            raise DemoError(f"no commit by {BOT_NAME} in the config repo")
        diff = run_git(
            "--git-dir", bare, "show", "--format=", "--no-color", "--unified=0", bots[0],
            env=self.genv,
        ).stdout  # fmt: skip
        info(f"diff of {bots[0][:7]} (only the marked bytes changed):")
        print(indent(diff), flush=True)
        self.outcome.commits = [
            line
            for line in run_git(
                "--git-dir", bare, "log", "--format=%h %an: %s", "main", env=self.genv
            ).stdout.splitlines()
        ]

    def show_rollout(self) -> None:
        """The Deployment as the cluster's own controllers report it (image, ready pods)."""
        from kubernetes import client, config

        api = config.new_client_from_config(str(self.kubeconfig))  # type: ignore[no-untyped-call]
        try:
            namespace = REAL_NAMESPACE if self.real_cluster else "default"
            live = client.AppsV1Api(api).read_namespaced_deployment("demo", namespace)
            image = live.spec.template.spec.containers[0].image
            ready = live.status.ready_replicas or 0
            available = any(
                c.type == "Available" and c.status == "True" for c in live.status.conditions or []
            )
            line = (
                f"Deployment {namespace}/demo: image {image}, {ready}/{live.spec.replicas} "
                f"pods ready, {'Available' if available else 'NOT available'}"
            )
        finally:
            api.close()
        info(line)
        self.outcome.rollout = line

    def show_cluster(self) -> None:
        say("What the cluster runs now (`gitops-action sync --dry-run` of the config repo)")
        env = self.cd_env()
        checkout = self.work / "checkout-final"
        run_git("clone", "--quiet", "--depth", "1", env["GITOPS_REPO"], str(checkout),
                env={**env, **_askpass(self.work, self.git)})  # fmt: skip
        inventory = f"{self.tool_namespace}/gitops-action-inventory"
        run_cli(
            ["sync", str(checkout / "cluster"), "--dry-run", "--inventory", inventory],
            env=env,
            label="sync --dry-run",
        )
        line = next(
            line.strip()
            for line in (checkout / "cluster" / "deployment.yaml").read_text().splitlines()
            if "$imagepolicy" in line
        )
        info(f"git: {line}")


# -- helpers ------------------------------------------------------------------
def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _clean_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment minus anything from a real CI or the user's tool set-up."""
    source = base if base is not None else os.environ
    drop = ("GITHUB_", "GITOPS_", "RUNNER_", "DOCKER_", "KUBECONFIG")
    return {k: v for k, v in source.items() if not k.startswith(drop)}


def _askpass(work: Path, git: GitHttpServer) -> dict[str, str]:
    """Git credentials for the demo's own clones, kept out of URLs and argv."""
    script = work / "askpass.sh"
    if not script.exists():
        script.write_text(
            '#!/bin/sh\ncase "$1" in Username*) echo "$DEMO_GIT_USER";; '
            '*) echo "$DEMO_GIT_PASSWORD";; esac\n'
        )
        script.chmod(0o700)
    return {
        "GIT_ASKPASS": str(script),
        "DEMO_GIT_USER": git.username,
        "DEMO_GIT_PASSWORD": git.password,
    }


def _tag_event(version: str, sha: str) -> str:
    """The push event GitHub sends for a new tag (only the fields ci run reads)."""
    import json

    return json.dumps(
        {
            "ref": f"refs/tags/{version}",
            "before": "0" * 40,
            "after": sha,
            "created": True,
            "deleted": False,
            "commits": [],
            "head_commit": {
                "id": sha,
                "message": f"release {version}",
                "author": {"name": "Demo Developer", "email": "dev@demo.example"},
                "committer": {"name": "Demo Developer", "email": "dev@demo.example"},
            },
            "pusher": {"name": "dev", "email": "dev@demo.example"},
            "repository": {"full_name": "demo/app", "name": "app"},
            "sender": {"login": "dev"},
        }
    )


def has_reconcile(env: Mapping[str, str]) -> bool:
    """True when this version of the CLI has a working `reconcile` command.

    GITOPS_DEMO_PHASES=1 takes the automate + sync path anyway (the e2e test
    covers both paths with it).
    """
    if os.environ.get("GITOPS_DEMO_PHASES") == "1":
        return False
    result = subprocess.run(
        [str(CONSOLE), "reconcile", "--help"],
        env=dict(env),
        capture_output=True,
        timeout=60,
        check=False,
    )
    return result.returncode == 0


def run_cli(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    label: str,
    cwd: Path | None = None,
    brief: bool = False,
    unhealthy_ok: bool = False,
    merged: bool = False,
) -> str:
    """Run `gitops-action ARGS`, show its stdout and stderr indented; returns stdout
    (stdout and stderr when merged).

    brief: show only the tool's own stderr lines (not the test and docker
    chatter ci run relays), unless it fails. unhealthy_ok: exit 1 is a note, not
    a failure (a real cluster cannot run the demo image, see `Demo.start_cluster`).
    """
    info(f"$ gitops-action {' '.join(args)}")
    began = time.monotonic()
    result = subprocess.run(
        [str(CONSOLE), *args],
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    stderr = result.stderr
    if brief and result.returncode == 0:
        stderr = "\n".join(
            line for line in stderr.splitlines() if line.startswith("gitops-action:")
        )
    for stream in (result.stdout, stderr):
        if stream.strip():
            print(indent(stream), flush=True)
    info(f"exit {result.returncode} in {time.monotonic() - began:.1f}s")
    if result.returncode == 1 and unhealthy_ok:
        info(
            "note: exit 1 on a real cluster is expected here: the objects were applied, but "
            "the demo image (FROM scratch, in a registry on this machine's 127.0.0.1) cannot run"
        )
    elif result.returncode != 0:
        raise DemoError(f"{label} failed with exit {result.returncode}")
    return result.stdout + result.stderr if merged else result.stdout


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def signals(handler: signal.Handlers | Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """Run the block with every stop signal handled by handler, restore them after.

    The run uses _raise_interrupt (SIGTERM and SIGHUP unwind like Ctrl-C, so the
    cleanup runs); the cleanup uses SIG_IGN, so a second Ctrl-C cannot cut a
    service's stop in half and leave its helpers (containerd) behind.
    """
    previous = {sig: signal.signal(sig, handler) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def summary(outcome: Outcome, began: float) -> None:
    say("Summary")
    for version, release in outcome.releases.items():
        info(f"released {version}: {release['tags']}")
        info(f"          digest {release['digest']}")
    info(f"reconcile ran as: {outcome.reconcile_path}")
    info(f"config repo commits (newest first): {len(outcome.commits)}")
    for commit in outcome.commits:
        info(f"  {commit}")
    info(f"applied to {outcome.cluster}:")
    for applied in outcome.applied:
        info(f"  {applied}")
    if outcome.rollout:
        info(f"rolled out: {outcome.rollout}")
    info(f"wall time {time.monotonic() - began:.1f}s")


def main() -> int:
    began = time.monotonic()
    missing = [p for p in ("dockerd", "docker-registry", "htpasswd", "git") if not shutil.which(p)]
    if missing:
        print(f"demo: {', '.join(missing)} missing: run scripts/bootstrap.sh", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="gitops-demo-"))
    print(f"demo: work dir {work} (removed at the end)", flush=True)
    code = 1
    stack = contextlib.ExitStack()
    try:
        with signals(_raise_interrupt):
            run(Demo(work, stack), began)
        code = 0
    except KeyboardInterrupt:
        print("demo: interrupted; cleaning up", file=sys.stderr, flush=True)
        code = 130
    except DemoError as err:
        print(f"demo: FAILED: {err}", file=sys.stderr, flush=True)
    except Exception as err:  # a service or git step failed: report it, still clean up
        print(f"demo: FAILED: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
    finally:
        say("Cleaning up: stopping the services by PID, removing the temp dirs")
        with signals(signal.SIG_IGN):
            stack.close()
            shutil.rmtree(work, ignore_errors=True)
    word = "done" if code == 0 else "stopped"
    print(f"demo: {word} in {time.monotonic() - began:.1f}s, everything cleaned up", flush=True)
    return code


def run(demo: Demo, began: float) -> None:
    """The loop, in the order the README tells it."""
    demo.start_services()
    demo.start_cluster()
    demo.ensure_tool_namespace()
    demo.seed_config_repo()
    demo.create_app_repo()
    demo.release("v1.0.0")
    demo.reconcile(1)
    demo.release("v1.1.0")
    demo.reconcile(2)
    demo.show_history()
    demo.show_cluster()
    demo.show_rollout()
    summary(demo.outcome, began)


if __name__ == "__main__":
    sys.exit(main())
