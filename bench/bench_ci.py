"""`ci run` against `docker buildx build --push` on the same builder, the warm-cache
release, and the skip path.

Both sides build the same one-layer context (`FROM scratch` + `COPY` of a
fresh payload, so every run builds and uploads a new layer) on the same
BuildKit builder (a private buildkitd, tools/buildkit, buildx `remote`
driver) and push the same three tags (`v1.2.3`, `latest`, `sha-<7>`) to the
same registry (Distribution 2.8 with htpasswd), each run to a repository of
its own. Runs are interleaved in one process so machine noise hits both
alike; figures are medians.

- baseline: `docker buildx build --push -t R:v1.2.3 -t R:latest -t R:sha-...`
  (logged in once beforehand); beside it the same with `docker login` timed
  too (a workflow logs in on every run; `ci run` does) and the same with the
  four OCI labels;
- `gitops-action ci run`: the whole command as the action runs it, with no
  test command: skip check, input checks, builder check, `docker login`,
  one build that pushes every tag, outputs and summary.
  Target (DESIGN.md §6): within 1.1x (1.15x for a 1 MiB context).
- warm-cache release: a Dockerfile whose dependency step takes seconds, then
  a changed app file; `ci run` on a fresh buildkitd (a new runner) with
  `cache-from` the registry cache a first release exported, against the same
  release without cache.
- the skip path: a push made by the bot, as the action's first step runs it
  (the runner's `python3` + `gitops_action/app/should_skip.py`, stdlib only),
  and as `gitops-action ci run` decides it; beside a bare `python3 -c pass`.

The services are the test fixtures' own classes (testbed). Needs root
(dockerd, buildkitd with runc), docker-registry, htpasswd, the docker CLI and
the buildx plugin (scripts/bootstrap.sh).

    .venv/bin/python bench/bench_ci.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import GITOPS, interleave, report

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testbed.base_images import push_busybox  # noqa: E402
from testbed.buildkit import BuildKitDaemon, BuildxConfig  # noqa: E402
from testbed.dockerd import DockerEngine  # noqa: E402
from testbed.process import start_with_port_retry  # noqa: E402
from testbed.registry import RegistryService  # noqa: E402

SHA = "89abcdef0123456789abcdef0123456789abcdef"
TAGS = ("v1.2.3", "latest", "sha-89abcde")
BOT = {"name": "gitops-bot", "email": "gitops-bot@acme.example", "username": "gitops-bot"}


def docker_cli() -> str:
    for candidate in ("/usr/bin/docker", "/usr/local/bin/docker"):
        if Path(candidate).exists():
            return candidate
    found = shutil.which("docker")
    if found is None:
        sys.exit("bench_ci: no docker CLI (install Debian docker.io)")
    return found


class Bench:
    def __init__(
        self, work: Path, registry: RegistryService, config: BuildxConfig, payload_mib: int
    ) -> None:
        self.payload_bytes = payload_mib << 20
        work.mkdir(parents=True, exist_ok=True)
        self.work = work
        self.registry = registry
        self.config = config
        self.docker = docker_cli()
        self.count = 0
        self.context = work / "context"
        self.context.mkdir()
        (self.context / "Dockerfile").write_text("FROM scratch\nCOPY payload.bin /payload.bin\n")
        self.cli_env = {**os.environ, **config.env()}
        self.login()
        self.tag_event = self._event("refs/tags/v1.2.3", human=True)
        self.bot_event = self._event("refs/heads/main", human=False)

    def _event(self, ref: str, *, human: bool) -> Path:
        person = {"name": "Ada", "email": "ada@acme.example", "username": "ada"} if human else BOT
        commit = {"id": SHA, "message": "change", "author": person, "committer": person}
        path = self.work / f"event-{ref.replace('/', '-')}.json"
        commits = [] if ref.startswith("refs/tags/") else [commit]
        path.write_text(json.dumps({"ref": ref, "commits": commits, "head_commit": commit}))
        return path

    def _fresh_payload(self) -> str:
        """New layer content for every run: both sides really build and upload."""
        self.count += 1
        (self.context / "payload.bin").write_bytes(os.urandom(self.payload_bytes))
        return f"{self.registry.host}/bench/run-{os.getpid()}-{self.count}"

    def login(self) -> None:
        registry = self.registry
        subprocess.run(
            [self.docker, "login", registry.host, "-u", registry.username, "--password-stdin"],
            input=registry.password.encode(),
            env=self.cli_env,
            check=True,
            capture_output=True,
        )

    def baseline(self, labels: tuple[str, ...] = (), *, login: bool = False) -> float:
        repository = self._fresh_payload()
        tags = [arg for tag in TAGS for arg in ("-t", f"{repository}:{tag}")]
        label_args = [arg for label in labels for arg in ("--label", label)]
        start = time.perf_counter()
        if login:
            self.login()
        subprocess.run(
            [self.docker, "buildx", "build", "--push", *tags, *label_args, str(self.context)],
            env=self.cli_env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start

    def action_env(self, event: Path, ref: str, image: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITOPS_"))}
        env.update(
            {
                **self.config.env(),
                "GITHUB_EVENT_NAME": "push",
                "GITHUB_EVENT_PATH": str(event),
                "GITHUB_REF": ref,
                "GITHUB_SHA": SHA,
                "GITHUB_REPOSITORY": "acme/app",
                "GITHUB_WORKSPACE": str(self.context),
                "GITHUB_OUTPUT": str(self.work / "output"),
                "GITHUB_STEP_SUMMARY": str(self.work / "summary"),
                "GITOPS_IMAGE": image,
                "GITOPS_BOT": "gitops-bot",
                "GITOPS_REGISTRY_USERNAME": self.registry.username,
                "GITOPS_REGISTRY_PASSWORD": self.registry.password,
            }
        )
        return env

    def action(self) -> float:
        repository = self._fresh_payload()
        env = self.action_env(self.tag_event, "refs/tags/v1.2.3", repository)
        start = time.perf_counter()
        subprocess.run([GITOPS, "ci", "run"], env=env, check=True, capture_output=True)
        elapsed = time.perf_counter() - start
        pushed = self.registry.list_tags(repository.split("/", 1)[1])
        if pushed != sorted(TAGS):
            sys.exit(f"bench_ci: ci run pushed {pushed}, expected {sorted(TAGS)}")
        return elapsed

    def timed(self, argv: list[str], env: dict[str, str], expect: str) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            result = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if expect not in result.stdout:
                sys.exit(f"bench_ci: {argv[-1]} did not print {expect!r}: {result.stdout}")
            return elapsed

        return run


OCI_LABELS = tuple(
    f"org.opencontainers.image.{key}={value}"
    for key, value in (
        ("source", "https://github.com/acme/app"),
        ("revision", SHA),
        ("version", "v1.2.3"),
        ("created", "2024-05-01T12:00:00Z"),
    )
)


def compare(bench: Bench, runs: int, mib: int) -> None:
    """One table: plain CLI build+push, the CLI with the same 4 labels, and ci run."""
    bench.baseline()  # warm each path once (page cache, engine state)
    bench.action()
    plain = "docker buildx build --push (3 tags)"
    medians = interleave(
        runs,
        **{
            plain: bench.baseline,
            "same, with `docker login` first (as a workflow runs it)": lambda: bench.baseline(
                login=True
            ),
            "same + the 4 OCI labels (`--label` x4)": lambda: bench.baseline(OCI_LABELS),
            "gitops-action ci run (login, one build pushing 3 tags)": bench.action,
        },
    )
    report(
        f"ci run vs docker buildx build --push, same builder, one-layer context of {mib} MiB",
        medians,
        plain,
        "ci run within 1.1x (1.15x at 1 MiB)",
    )


DEPS_DOCKERFILE = """FROM {base}
COPY deps.txt /deps.txt
RUN i=0; while [ $i -lt 40 ]; do head -c 8388608 /dev/urandom | sha256sum >> /deps.sum; \\
    i=$((i+1)); done
COPY app.txt /app.txt
"""


def warm_cache(
    work: Path,
    registry: RegistryService,
    engine: DockerEngine,
    new_daemon: Callable[[], BuildKitDaemon],
    runs: int,
) -> None:
    """Release v1.1.0 on a fresh buildkitd: with cache-from the v1.0.0 cache, and without."""
    base = push_busybox(registry)
    count = 0

    def release(version: str, cache_from: bool, cache_to: bool) -> float:
        nonlocal count
        count += 1
        config = BuildxConfig(work / f"cache-config-{count}", engine.docker_host)
        config.use_remote(f"runner-{count}", new_daemon())  # an empty cache: a new runner
        bench = Bench(work / f"cache-{count}", registry, config, 0)
        (bench.context / "Dockerfile").write_text(DEPS_DOCKERFILE.format(base=base))
        (bench.context / "deps.txt").write_text("left-pad==1.3.0\n")
        (bench.context / "app.txt").write_text(f"{version} {count}\n")
        env = bench.action_env(bench.tag_event, f"refs/tags/{version}", repository)
        cache = f"type=registry,ref={repository}:buildcache"
        if cache_from:
            env["GITOPS_CACHE_FROM"] = cache
        if cache_to:
            env["GITOPS_CACHE_TO"] = f"{cache},mode=max"
        start = time.perf_counter()
        subprocess.run([GITOPS, "ci", "run"], env=env, check=True, capture_output=True)
        elapsed = time.perf_counter() - start
        summary = (bench.work / "summary").read_text()
        cached = next(line for line in summary.splitlines() if "Cached steps" in line)
        print(f"  {version} cache-from={cache_from}: {elapsed:.2f} s, {cached}", file=sys.stderr)
        return elapsed

    repository = f"{registry.host}/bench/cache-{os.getpid()}"
    release("v1.0.0", cache_from=False, cache_to=True)
    medians = interleave(
        runs,
        **{
            "v1.1.0 on a fresh buildkitd, no cache": lambda: release("v1.1.0", False, False),
            "v1.1.0 on a fresh buildkitd, cache-from the registry": lambda: release(
                "v1.1.0", True, False
            ),
        },
    )
    report(
        "warm-cache release (dependency step ~2 s, app file changed)",
        medians,
        "v1.1.0 on a fresh buildkitd, no cache",
        "the dependency step cached",
    )


def stock_python3() -> str:
    """The interpreter `python3` on PATH really runs (not a version manager's shim script)."""
    found = shutil.which("python3") or sys.executable
    real = subprocess.run(
        [found, "-c", "import sys; print(sys.executable)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return real or found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-runs", type=int, default=30)
    parser.add_argument("--cache-runs", type=int, default=3)
    parser.add_argument(
        "--payload-mib", type=int, nargs="+", default=[1, 32, 128], help="layer sizes to compare"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ci-") as tmp:
        work = Path(tmp)
        registry = start_with_port_retry(lambda: RegistryService(work / "registry"))
        engine = DockerEngine(work / "dockerd", insecure_registry=registry.host)
        daemons: list[BuildKitDaemon] = []

        def new_daemon() -> BuildKitDaemon:
            daemon = BuildKitDaemon(work, insecure_registry=registry.host)
            daemons.append(daemon)
            daemon.start()
            return daemon

        try:
            engine.start()
            config = BuildxConfig(work / "docker-config", engine.docker_host)
            config.use_remote("bench", new_daemon())
            for mib in args.payload_mib:
                bench = Bench(work / f"p{mib}", registry, config, mib)
                compare(bench, args.runs, mib)
            warm_cache(work, registry, engine, new_daemon, args.cache_runs)
            skip_env = bench.action_env(bench.bot_event, "refs/heads/main", "127.0.0.1:9/x/y")
            python3 = stock_python3()
            fast_path = str(ROOT / "gitops_action" / "app" / "should_skip.py")
            skip = interleave(
                args.skip_runs,
                **{
                    "python3 -c pass": bench.timed([python3, "-c", "pass"], skip_env, ""),
                    "skip step: python3 should_skip.py": bench.timed(
                        [python3, fast_path, "--bot", "gitops-bot"], skip_env, "skip=true"
                    ),
                    "gitops-action ci run (skipped)": bench.timed(
                        [GITOPS, "ci", "run"], skip_env, "skipped=true"
                    ),
                },
            )
            report(
                "skip path (bot push), wall time", skip, "python3 -c pass", "seconds, not minutes"
            )
        finally:
            for daemon in daemons:
                daemon.stop()
            engine.stop()
            registry.stop()


if __name__ == "__main__":
    main()
