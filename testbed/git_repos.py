"""Bare repositories on disk that the git servers publish.

Both git servers (smart HTTP and git daemon) serve a directory of bare repos;
tests create and inspect those repos straight on disk (never over the wire),
so arranging or checking state does not show up in the servers' counters.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from testbed.gitenv import run_git, write_tree

Files = Mapping[str, str | bytes]


class BareRepos:
    """A directory of `NAME.git` bare repositories with default branch main."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root = root
        self.env = dict(env)
        root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def repo_name(name: str) -> str:
        return name if name.endswith(".git") else f"{name}.git"

    def path(self, name: str) -> Path:
        return self.root / self.repo_name(name)

    def create(
        self, name: str, files: Files | Path | None = None, *, message: str = "seed"
    ) -> Path:
        """A new bare repo (HEAD -> main); seeded with one commit when files are given."""
        path = self.path(name)
        if path.exists():
            raise FileExistsError(f"repository {path} already exists")
        run_git("init", "--quiet", "--bare", "--initial-branch=main", str(path), env=self.env)
        if files is not None:
            self.seed(name, files, message=message)
        return path

    def seed(
        self, name: str, files: Files | Path, *, message: str = "seed", branch: str = "main"
    ) -> str:
        """Commit files (a mapping or a directory to copy) on top of branch; returns the sha."""
        with tempfile.TemporaryDirectory(prefix="seed-") as tmp:
            work = Path(tmp) / "work"
            head = self.head(name, branch)
            if head is None:
                run_git("init", "--quiet", f"--initial-branch={branch}", str(work), env=self.env)
            else:
                run_git(
                    "clone",
                    "--quiet",
                    "--branch",
                    branch,
                    str(self.path(name)),
                    str(work),
                    env=self.env,
                )
            if isinstance(files, Path):
                shutil.copytree(
                    files, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git")
                )
            else:
                write_tree(work, files)
            run_git("add", "--all", cwd=work, env=self.env)
            run_git("commit", "--quiet", "--allow-empty", "-m", message, cwd=work, env=self.env)
            run_git(
                "push",
                "--quiet",
                str(self.path(name)),
                f"HEAD:refs/heads/{branch}",
                cwd=work,
                env=self.env,
            )
            return run_git("rev-parse", "HEAD", cwd=work, env=self.env).stdout.strip()

    def head(self, name: str, branch: str = "main") -> str | None:
        """The sha branch points at, None when the branch does not exist."""
        result = run_git(
            "--git-dir",
            str(self.path(name)),
            "rev-parse",
            "--verify",
            "--quiet",
            f"refs/heads/{branch}",
            env=self.env,
            check=False,
        )
        return result.stdout.strip() or None

    def log(self, name: str, branch: str = "main") -> list[str]:
        """Commit subjects on branch, newest first ([] for a missing branch)."""
        if self.head(name, branch) is None:
            return []
        out = run_git(
            "--git-dir",
            str(self.path(name)),
            "log",
            "--format=%s",
            f"refs/heads/{branch}",
            env=self.env,
        ).stdout
        return out.splitlines()

    def read_file(self, name: str, file: str, ref: str = "main") -> str:
        """A file's content at ref in the bare repo."""
        return run_git(
            "--git-dir", str(self.path(name)), "show", f"{ref}:{file}", env=self.env
        ).stdout
