"""The config repo through the `git` program: a cached clone, commits, fast-forward pushes.

Why subprocess git and not a library: it speaks every transport and auth
scheme users have (smart HTTP, ssh, local paths), does shallow fetches and
`--deepen`, and reports push rejections exactly (`--porcelain`).

The clone lives in a cache directory (`--cache-dir`, `GITOPS_CACHE_DIR`,
else `$XDG_CACHE_HOME/gitops-action`, else `~/.cache/gitops-action`), one
sub-directory per remote, and is reused across runs: the first run fetches
with `--depth`, later runs fetch only what is new. A file lock keeps two runs
on one machine from using the same clone at once; a clone left broken by a
killed run is wiped and fetched again.

The work tree is always a detached HEAD reset to a remote-tracking ref:
`sync` throws away anything local, so every attempt plans from exactly what
the remote has. Commits are made on top and pushed as `SHA:refs/heads/B`,
never forced onto a branch someone else writes (`push` refuses a non
fast-forward; `PushRejected` tells the caller to fetch and re-plan). The only
forced update is `--force-with-lease` on a pull-request branch the caller has
checked is the bot's own.

Credentials never reach argv, `.git/config` or a message (`git_auth`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitops_action.adapters import failpoints
from gitops_action.adapters.git_auth import GitAuth, display_url
from gitops_action.domain.errors import ConfigError, GitError, PushRejected

log = logging.getLogger("gitops_action.git")

CACHE_ENV = "GITOPS_CACHE_DIR"
TRAILER_KEY = "Gitops-Action"
DEFAULT_TIMEOUT = 300.0

# Inherited variables that would point git at another repository (a run from a hook).
_REPO_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
)
_REMOTE_FAILURES = (
    "unable to access",
    "authentication failed",
    "could not read username",
    "could not read password",
    "could not resolve host",
    "connection refused",
    "couldn't find remote ref",
    "the requested url returned error",
    "repository not found",
    "does not appear to be a git repository",
    "could not read from remote repository",
    "permission denied",
    "host key verification failed",
    "timed out",
)
_AUTH_FAILURES = ("authentication failed", "could not read username", "could not read password")
_RACE_REASONS = ("non-fast-forward", "fetch first", "stale info", "already exists")
_REMOTE_RACE = ("lock", "failed to update ref", "expected", "incorrect old value", "but expected")


def default_cache_dir(environ: Mapping[str, str], home: Path | None = None) -> Path:
    """`GITOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/gitops-action`, else `~/.cache/gitops-action`."""
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV])
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]) / "gitops-action"
    return (home or Path.home()) / ".cache" / "gitops-action"


@dataclass(frozen=True)
class LogEntry:
    """One commit as `log` reads it."""

    sha: str
    author_name: str
    author_email: str
    date: str  # committer date, ISO 8601
    trailers: tuple[str, ...]  # values of `Gitops-Action:` trailers
    subject: str


@dataclass(frozen=True)
class PushResult:
    """What a push did: `updated` False means the remote already had it."""

    branch: str
    sha: str
    updated: bool


class GitWorkspace:
    """A cached working clone of one remote (see the module docstring)."""

    def __init__(
        self,
        auth: GitAuth,
        cache_root: Path,
        *,
        environ: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.auth = auth
        self.url = display_url(auth.url)
        """The remote as messages may show it (the configured one is `auth.url`)."""
        self.cache_root = cache_root
        self.path = cache_root / "repos" / _cache_name(auth.url)
        self.timeout = timeout
        base = dict(os.environ if environ is None else environ)
        for name in _REPO_VARIABLES:
            base.pop(name, None)
        base.update(auth.env)
        base.update({"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "LC_ALL": "C"})
        base.pop("LANGUAGE", None)
        self._env = base
        self._lock_file: int | None = None
        self.fetches = 0
        self.pushes = 0

    # -- lifecycle ------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[GitWorkspace]:
        """Hold the clone's lock (blocks while another run on this machine uses it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(str(self.path) + ".lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            self._lock_file = descriptor
            yield self
        finally:
            self._lock_file = None
            os.close(descriptor)  # closing releases the flock

    # -- fetching -------------------------------------------------------------------
    def sync(self, branch: str, *, depth: int, extra_refspecs: Sequence[str] = ()) -> str:
        """Fetch `branch` (and `extra_refspecs`) and reset the work tree to it; the HEAD sha.

        A cache that exists is fetched incrementally; one that cannot be used
        (a run killed half-way) is wiped and fetched fresh, once.
        """
        fresh = not (self.path / ".git").is_dir()
        try:
            return self._sync(branch, depth, extra_refspecs, fresh)
        except GitError as error:
            if fresh or _is_remote_failure(str(error)):
                raise
            log.warning("cached clone %s is unusable (%s); cloning again", self.path, error)
            shutil.rmtree(self.path, ignore_errors=True)
            return self._sync(branch, depth, extra_refspecs, True)

    def _sync(self, branch: str, depth: int, extra: Sequence[str], fresh: bool) -> str:
        if fresh:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir(parents=True)
            self._git("init", "--quiet", what="init the cache")
            self._git("remote", "add", "origin", self.auth.url, what="configure the remote")
            for key, value in (
                ("core.autocrlf", "false"),
                ("advice.detachedHead", "false"),
                ("commit.gpgSign", "false"),
            ):
                self._git("config", key, value, what="configure the cache")
        else:
            for stale in ("index.lock", "shallow.lock", "HEAD.lock"):
                (self.path / ".git" / stale).unlink(missing_ok=True)
            self._git("config", "remote.origin.url", self.auth.url, what="configure the remote")
        self.fetch(branch, depth=depth if fresh else None, extra_refspecs=extra)
        head = self.reset(remote_ref(branch))
        failpoints.hit("after-clone")
        return head

    def fetch(
        self,
        branch: str,
        *,
        depth: int | None = None,
        deepen: int | None = None,
        extra_refspecs: Sequence[str] = (),
    ) -> None:
        """One fetch of `branch` into `refs/remotes/origin/B` (one ref advertisement)."""
        args = ["fetch", "--quiet", "--no-tags", "--prune", "--no-write-fetch-head"]
        if depth is not None:
            args.append(f"--depth={depth}")
        if deepen is not None:
            args.append(f"--deepen={deepen}")
        args += ["origin", f"+refs/heads/{branch}:{remote_ref(branch)}", *extra_refspecs]
        self.fetches += 1
        result = self._git(*args, what=f"fetch branch {branch} from {self.url}", check=False)
        if result.returncode != 0:
            raise self._fetch_error(branch, result.stderr)

    def fetch_refspecs(self, refspecs: Sequence[str]) -> None:
        """One fetch of arbitrary refspecs (globs do not fail when nothing matches)."""
        args = ["fetch", "--quiet", "--no-tags", "--prune", "--no-write-fetch-head", "origin"]
        self.fetches += 1
        result = self._git(*args, *refspecs, what=f"fetch from {self.url}", check=False)
        if result.returncode != 0:
            raise GitError(f"git fetch from {self.url} failed: {self._last_line(result.stderr)}")

    def remote_default_branch(self) -> str | None:
        """The branch the remote's HEAD points at (`git ls-remote --symref origin HEAD`)."""
        self.fetches += 1
        result = self._git(
            "ls-remote",
            "--symref",
            "origin",
            "HEAD",
            what="ask for the default branch",
            check=False,
        )
        for line in result.stdout.splitlines():
            if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                return line[len("ref: refs/heads/") : -len("\tHEAD")]
        return None

    def reset(self, ref: str) -> str:
        """Detach HEAD at `ref`, throw away local changes and untracked files; the sha."""
        self._git("checkout", "--quiet", "--force", "--detach", ref, what=f"check out {ref}")
        self._git("clean", "--quiet", "-ffdx", what="clean the work tree")
        return self.rev_parse("HEAD")

    def is_shallow(self) -> bool:
        out = self._git("rev-parse", "--is-shallow-repository", what="inspect the cache").stdout
        return out.strip() == "true"

    def rev_parse(self, ref: str) -> str:
        return self._git(
            "rev-parse", "--verify", "--quiet", ref, what=f"resolve {ref}"
        ).stdout.strip()

    def ref_sha(self, ref: str) -> str | None:
        """The sha `ref` points at, None when there is no such ref."""
        result = self._git("rev-parse", "--verify", "--quiet", ref, what="resolve", check=False)
        return result.stdout.strip() or None

    # -- reading history ------------------------------------------------------------
    def log(self, rev: str, *, limit: int, paths: Sequence[str] = ()) -> list[LogEntry]:
        """Commits reachable from `rev`, newest first (topological), at most `limit`."""
        fields = "%H%x1f%an%x1f%ae%x1f%cI%x1f%(trailers:key=" + TRAILER_KEY
        fields += ",valueonly,separator=%x1d)%x1f%s%x1e"
        args = ["log", "--topo-order", f"--format={fields}", f"--max-count={limit}", rev]
        if paths:
            args += ["--", *paths]
        out = self._git(*args, what=f"read the history of {rev}").stdout
        entries = []
        for raw in out.split("\x1e"):
            record = raw.strip("\n")
            if not record:
                continue
            sha, name, email, date, trailers, subject = record.split("\x1f", 5)
            values = tuple(v.strip() for v in trailers.split("\x1d") if v.strip())
            entries.append(LogEntry(sha, name, email, date, values, subject))
        return entries

    def commits_between(self, base: str, head: str, paths: Sequence[str] = ()) -> list[LogEntry]:
        """Commits in `base..head` (touching `paths` when given), oldest first."""
        fields = "%H%x1f%an%x1f%ae%x1f%cI%x1f%x1f%s%x1e"
        args = ["log", "--topo-order", "--reverse", f"--format={fields}", f"{base}..{head}"]
        if paths:
            args += ["--", *paths]
        out = self._git(*args, what=f"read the history {base[:7]}..{head[:7]}").stdout
        entries = []
        for raw in out.split("\x1e"):
            record = raw.strip("\n")
            if record:
                sha, name, email, date, _trailers, subject = record.split("\x1f", 5)
                entries.append(LogEntry(sha, name, email, date, (), subject))
        return entries

    def read_file(self, rev: str, path: str) -> bytes | None:
        """A file's bytes at `rev` (path relative to the repo root), None when absent."""
        result = subprocess.run(
            ["git", "cat-file", "blob", f"{rev}:{path}"],
            cwd=self.path,
            env=self._env,
            capture_output=True,
            timeout=self.timeout,
            check=False,
        )
        return result.stdout if result.returncode == 0 else None

    def changed_files(self, base: str, head: str) -> list[str]:
        out = self._git("diff", "--name-only", base, head, what="compare commits").stdout
        return [line for line in out.splitlines() if line]

    # -- writing --------------------------------------------------------------------
    def commit(
        self, message: str, *, author_name: str, author_email: str, paths: Sequence[str]
    ) -> str | None:
        """Commit `paths` (relative to the repo root) on HEAD; None when nothing changed.

        The automation's author is the committer too, as in Flux. Hooks are
        not run: the cache is the tool's own.
        """
        self._git("add", "--all", "--", *paths, what="stage the changes")
        staged = self._git("diff", "--cached", "--quiet", what="inspect the index", check=False)
        if staged.returncode == 0:
            return None
        identity = {
            "GIT_AUTHOR_NAME": author_name,
            "GIT_AUTHOR_EMAIL": author_email,
            "GIT_COMMITTER_NAME": author_name,
            "GIT_COMMITTER_EMAIL": author_email,
        }
        self._git(
            "commit",
            "--quiet",
            "--no-verify",
            "--cleanup=verbatim",
            "--file=-",
            what="commit",
            input_text=message,
            extra_env=identity,
        )
        return self.rev_parse("HEAD")

    def push(self, sha: str, branch: str, *, lease: str | None = None) -> PushResult:
        """Push `sha` to `refs/heads/B`; a fast-forward only unless `lease` is given.

        `lease` (a sha, or "" for "the branch must not exist") turns on
        `--force-with-lease` for the bot's own pull-request branches. A
        refusal because the branch moved raises `PushRejected`; any other
        failure `GitError`.
        """
        args = ["push", "--porcelain"]
        if lease is not None:
            args.append(f"--force-with-lease=refs/heads/{branch}:{lease}")
        args += ["origin", f"{sha}:refs/heads/{branch}"]
        failpoints.hit("after-commit")
        self.pushes += 1
        result = self._git(*args, what=f"push to {branch}", check=False)
        status = _porcelain_status(result.stdout, branch)
        if result.returncode == 0 and status is not None and status[0] in " +*=":
            failpoints.hit("after-push")
            return PushResult(branch, sha, updated=status[0] != "=")
        where = f"push to branch {branch} of {self.url}"
        if status is not None and status[0] == "!":
            summary = status[1]
            lowered = summary.lower()
            if ("[rejected]" in lowered and any(r in lowered for r in _RACE_REASONS)) or (
                "[remote rejected]" in lowered and any(r in lowered for r in _REMOTE_RACE)
            ):
                raise PushRejected(f"{where} rejected: the branch moved ({self.redact(summary)})")
            raise GitError(f"{where} refused: {self.redact(summary)}")
        raise GitError(f"{where} failed: {self._last_line(result.stderr)}")

    # -- plumbing -------------------------------------------------------------------
    def redact(self, text: str) -> str:
        return self.auth.redact(text)

    def _git(
        self,
        *args: str,
        what: str,
        check: bool = True,
        input_text: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        env = self._env if extra_env is None else {**self._env, **extra_env}
        try:
            result = subprocess.run(
                ["git", *args],
                cwd=self.path,
                env=env,
                input=input_text,
                stdin=None if input_text is not None else subprocess.DEVNULL,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError as error:
            raise GitError("git is not installed (the `git` program is not on PATH)") from error
        except subprocess.TimeoutExpired:
            raise GitError(
                f"git could not {what} within {self.timeout:.0f}s ({self.url})"
            ) from None
        if check and result.returncode != 0:
            raise GitError(f"git could not {what}: {self._last_line(result.stderr)}")
        return result

    def _fetch_error(self, branch: str, stderr: str) -> GitError:
        lowered = stderr.lower()
        if "couldn't find remote ref" in lowered:
            return GitError(f"branch {branch} not found on {self.url} (check --branch)")
        if any(marker in lowered for marker in _AUTH_FAILURES):
            return GitError(
                f"git authentication failed for {self.url} ({self.auth.describe}): "
                "check GITOPS_GIT_USERNAME/GITOPS_GIT_PASSWORD or the URL's credentials"
            )
        return GitError(f"git fetch of {branch} from {self.url} failed: {self._last_line(stderr)}")

    def _last_line(self, stderr: str) -> str:
        lines = [
            line.strip()
            for line in stderr.splitlines()
            if line.strip() and not line.startswith("hint:")
        ]
        errors = [line for line in lines if line.startswith(("fatal:", "error:"))]
        text = (errors or lines or ["(no message)"])[0 if errors else -1]
        return self.redact(text)


def remote_ref(branch: str) -> str:
    return f"refs/remotes/origin/{branch}"


def _cache_name(url: str) -> str:
    """`<last path element>-<12 hex of the URL>`: readable and unique per remote.

    Both come from the URL without userinfo, query or fragment, so no secret
    a URL carries ends up in a directory name (`ls` of the cache shows them).
    """
    bare = re.sub(r"[?#].*$", "", re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1", url))
    digest = hashlib.sha256(bare.encode()).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", bare.rstrip("/").rsplit("/", 1)[-1])
    stem = stem.removesuffix(".git").strip(".-") or "repo"
    return f"{stem[:40]}-{digest}"


def _is_remote_failure(message: str) -> bool:
    lowered = message.lower()
    return any(marker in lowered for marker in _REMOTE_FAILURES) or "not found on" in lowered


def _porcelain_status(stdout: str, branch: str) -> tuple[str, str] | None:
    """(flag, summary) of the porcelain line for `refs/heads/B`."""
    target = f":refs/heads/{branch}\t"
    for line in stdout.splitlines():
        if target in line and len(line) > 1 and line[1] == "\t":
            _flag_and_refs, _, summary = line.rpartition("\t")
            return line[0], summary
    return None


def validate_branch(branch: str, what: str = "--branch") -> str:
    """A branch name git accepts (checked without running git)."""
    bad = (
        not branch
        or branch.startswith(("-", "/"))
        or branch.endswith(("/", ".", ".lock"))
        or ".." in branch
        or "//" in branch
        or "@{" in branch
        or any(char in branch for char in " ~^:?*[\\\x7f")
        or any(ord(char) < 32 for char in branch)
    )
    if bad:
        raise ConfigError(f"{what}: {branch!r} is not a valid git branch name")
    return branch
