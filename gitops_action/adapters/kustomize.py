"""Building a Flux source's paths with the real `kustomize` binary, as Flux does.

A run stages the source once: the files of the checkout that Flux's
source-controller would put in its artifact (`.sourceignore` and Flux's
default exclusions applied, `domain.sourceignore`) are copied into a private
temporary directory. Each Flux Kustomization's path is then prepared there
the way kustomize-controller prepares it:

- a path without `kustomization.yaml` gets one generated, listing its
  `*.yaml`/`*.yml` files and the subdirectories that have their own
  kustomization file (not descending into those); directories holding a
  Helm chart (`Chart.yaml`) are not manifests and are left out;
- the Flux Kustomization's own fields (targetNamespace, namePrefix, patches,
  images, components, ...) are merged into it (`domain.flux_kustomization`);
- `buildMetadata: [originAnnotations]` is added so every object says which
  file it came from (errors and the bootstrap layout need that); the
  annotation is removed again before anything is applied.

Then `kustomize build` runs with kustomize's own root-only load restrictions
(a kustomization reads files only below its directory; bases are other
kustomization directories) and no plugins, in the staged copy, with an
environment holding nothing but PATH and a scratch HOME, so no credential
reaches it. Remote bases (URLs, `github.com/...`, `?ref=`) are refused before
kustomize runs, because kustomize would fetch them: sync applies what is in the
repository, nothing fetched at run time. Kustomize is found through
`GITOPS_KUSTOMIZE`, else `kustomize` on PATH (the tool's image ships it;
`scripts/bootstrap.sh` builds it into the tools cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from gitops_action.adapters.manifest_loader import parse_documents, render_yaml
from gitops_action.adapters.yaml_limits import check_file_limits
from gitops_action.domain.errors import ConfigError, InvalidSyncInput
from gitops_action.domain.flux_kustomization import is_local_relative, merge_overlay
from gitops_action.domain.manifests import Location, expand, read_manifest
from gitops_action.domain.sourceignore import IGNORE_FILE, Matcher, Pattern, read_patterns

KUSTOMIZATION_FILES: Final = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ORIGIN: Final = "config.kubernetes.io/origin"
ENV_BINARY: Final = "GITOPS_KUSTOMIZE"
_SUFFIXES: Final = (".yaml", ".yml")
_PATH_FIELDS: Final = ("resources", "bases", "components", "crds")
_REMOTE_MARKERS: Final = ("://", "?ref=", "?version=", "git@", "git::", "github.com/")
_TIMEOUT: Final = 300


class KustomizeBuildError(InvalidSyncInput):
    """kustomize refused a path (names the Kustomization, the path and kustomize's reason)."""


@dataclass(frozen=True)
class Built:
    """A path's build: the objects with where each was written (file relative to the source
    root, document; a generated object is placed at its kustomization file), and the
    kustomization file used."""

    objects: list[tuple[Location, dict[str, Any]]]
    kustomization_file: str
    generated: bool


def find_binary(environ: Mapping[str, str]) -> str:
    explicit = environ.get(ENV_BINARY)
    if explicit:
        return explicit
    found = shutil.which("kustomize", path=environ.get("PATH"))
    if found is None:
        raise InvalidSyncInput(
            "kustomize not found: put it on PATH or set GITOPS_KUSTOMIZE (scripts/bootstrap.sh "
            "builds the pinned version into the tools cache; the tool's image ships it)"
        )
    return found


@contextmanager
def staged(root: Path) -> Iterator[Path]:
    """A private copy of what Flux's artifact of `root` would hold, removed on exit."""
    scratch = Path(tempfile.mkdtemp(prefix="gitops-action-source-"))
    try:
        _copy_source(root, scratch)
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _copy_source(root: Path, dest: Path) -> None:
    files = _git_files(root) if (root / ".git").exists() else _walk_files(root)
    patterns: list[Pattern] = []
    for name in files:
        if name == IGNORE_FILE or name.endswith("/" + IGNORE_FILE):
            domain = tuple(name.split("/")[:-1])
            text = (root / name).read_text(errors="replace")
            patterns.extend(read_patterns(text, domain))
    matcher = Matcher.of(patterns)
    real_root = root.resolve()
    skipped_dirs: dict[tuple[str, ...], bool] = {}
    for name in files:
        parts = tuple(name.split("/"))
        if _under_ignored_dir(matcher, parts, skipped_dirs) or matcher.ignored(parts, False):
            continue
        source = root / name
        if source.is_symlink() and not source.resolve().is_relative_to(real_root):
            continue  # a link out of the repository is not part of its content
        if not source.is_file():
            continue
        target = dest.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _under_ignored_dir(
    matcher: Matcher, parts: tuple[str, ...], memo: dict[tuple[str, ...], bool]
) -> bool:
    for depth in range(1, len(parts)):
        prefix = parts[:depth]
        if prefix not in memo:
            memo[prefix] = matcher.ignored(prefix, True)
        if memo[prefix]:
            return True
    return False


def _git_files(root: Path) -> list[str]:
    """What the repository holds: tracked files, and untracked ones git does not ignore (a
    work tree being edited), never `.gitignore`d build output."""
    try:
        done = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=True,
            timeout=_TIMEOUT,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return _walk_files(root)
    return sorted({n for n in done.stdout.decode(errors="replace").split("\0") if n})


def _walk_files(root: Path) -> list[str]:
    out: list[str] = []
    stack = [root]
    while stack:
        directory = stack.pop()
        with os.scandir(directory) as scan:
            for entry in scan:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != ".git":
                        stack.append(Path(entry.path))
                else:
                    out.append(_relative(Path(entry.path), root))
    return sorted(out)


def prepare(stage: Path, rel: str, overlay: Mapping[str, Any]) -> tuple[str, bool]:
    """Write the kustomization file for `rel` (generated if missing, Flux's fields merged,
    origin annotations on); returns its relative name and whether it was generated."""
    directory = stage / rel
    if not directory.is_dir():
        raise InvalidSyncInput(f"{rel}: no such directory in the source")
    existing = next((directory / n for n in KUSTOMIZATION_FILES if (directory / n).is_file()), None)
    if existing is not None:
        name = _relative(existing, stage)
        documents = parse_documents(name, existing.read_text(errors="replace"))
        base = documents[0] if len(documents) == 1 else None
        if not isinstance(base, dict):
            raise InvalidSyncInput(f"{name}: a kustomization must be one YAML mapping")
        generated = False
    else:
        existing = directory / "kustomization.yaml"
        name = _relative(existing, stage)
        base = _generate(directory)
        generated = True
        _check_files(stage, directory, base.get("resources") or [])
    data = merge_overlay(base, overlay)
    metadata = data.get("buildMetadata") or []
    if isinstance(metadata, list) and "originAnnotations" not in metadata:
        data["buildMetadata"] = [*metadata, "originAnnotations"]
    existing.write_text(render_yaml(data))
    return name, generated


def _generate(directory: Path) -> dict[str, Any]:
    """As Flux's generator: every manifest file below, in walk order, and each subdirectory
    with its own kustomization file as a resource (not descended into). Directories holding
    a Helm chart (`Chart.yaml`) are left out: their templates are not manifests."""
    resources: list[str] = []

    def walk(current: Path) -> None:
        with os.scandir(current) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if any((path / n).is_file() for n in KUSTOMIZATION_FILES):
                    resources.append("./" + _relative(path, directory))
                elif not (path / "Chart.yaml").is_file():
                    walk(path)
            elif entry.name.endswith(_SUFFIXES) and entry.is_file(follow_symlinks=False):
                resources.append("./" + _relative(path, directory))

    walk(directory)
    data: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
    }
    if resources:
        data["resources"] = resources
    else:
        data["namespace"] = "_placeholder"  # as Flux: an empty kustomization must still build
    return data


def _check_files(stage: Path, directory: Path, resources: list[str]) -> None:
    """Every document of a generated kustomization's files is an object kustomize can
    place; problems name the file and document (kustomize's own message names neither)."""
    problems: list[str] = []
    seen: dict[tuple[str, str, str, str], Location] = {}
    for entry in resources:
        path = directory / entry
        if not path.is_file():
            continue
        name = _relative(path, stage)
        try:
            documents = parse_documents(name, path.read_text(errors="replace"))
        except ConfigError as error:
            problems.append(str(error))
            continue
        for number, document in enumerate(documents, start=1):
            for location, data in expand(Location(name, number), document):
                try:
                    manifest = read_manifest(location, data)
                except ConfigError as error:
                    problems.append(str(error))
                    continue
                key = (manifest.group, manifest.kind, manifest.namespace, manifest.name)
                if key in seen:
                    where = f"{manifest.namespace}/" if manifest.namespace else ""
                    problems.append(
                        f"{manifest.kind} {where}{manifest.name} is defined twice: "
                        f"{seen[key]} and {location}"
                    )
                seen[key] = location
    if problems:
        raise InvalidSyncInput("; ".join(problems))


def check_references(stage: Path) -> list[str]:
    """Every remote base, and every local reference leaving the source, in every
    kustomization file of the staged source (one message each, naming file and entry)."""
    problems: list[str] = []
    real_stage = stage.resolve()
    for path in sorted(stage.rglob("*")):
        if path.name not in KUSTOMIZATION_FILES or not path.is_file():
            continue
        name = _relative(path, stage)
        try:
            documents = parse_documents(name, path.read_text(errors="replace"))
        except ConfigError as error:
            problems.append(str(error))
            continue
        data = documents[0] if len(documents) == 1 else None
        if not isinstance(data, dict) or not str(
            data.get("apiVersion", "kustomize.config")
        ).startswith("kustomize.config"):
            continue  # e.g. a Flux Kustomization object in a file named so: a manifest
        for field in _PATH_FIELDS:
            entries = data.get(field) or []
            for entry in entries if isinstance(entries, list) else []:
                problem = _reference_problem(path.parent, real_stage, str(entry))
                if problem:
                    problems.append(f"{name}: {field} entry {entry!r} {problem}")
    return problems


def _reference_problem(directory: Path, real_stage: Path, entry: str) -> str:
    if any(marker in entry for marker in _REMOTE_MARKERS) or not is_local_relative(entry):
        return (
            "is a remote base; sync only applies files from the repository (vendor the base "
            "into the repository)"
        )
    target = (directory / entry).resolve()
    if not target.is_relative_to(real_stage):
        return "leaves the repository"
    return ""


_LIMITS_CHECKED: set[Path] = set()


def _check_yaml_limits(stage: Path) -> None:
    """Every YAML file kustomize may load from the stage (a build reaches other directories
    of it through `../base`), checked against the YAML limits first, once per stage:
    kustomize expands a 1 KB alias bomb without bound (5 GB in 20 s, measured)."""
    if stage in _LIMITS_CHECKED:
        return
    for path in sorted(stage.rglob("*")):
        yaml_file = path.suffix in {".yaml", ".yml"} or path.name == "Kustomization"
        if yaml_file and path.is_file() and not path.is_symlink():
            check_file_limits(_relative(path, stage), path.read_text(errors="replace"))
    _LIMITS_CHECKED.add(stage)


def build(binary: str, stage: Path, rel: str, kustomization_file: str, generated: bool) -> Built:
    """`kustomize build` of `rel` in the staged source; objects with their origin file."""
    _check_yaml_limits(stage)
    with tempfile.TemporaryDirectory(prefix="gitops-action-kustomize-home-") as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
        try:
            done = subprocess.run(
                [binary, "build", "--load-restrictor", "LoadRestrictionsRootOnly", rel],
                cwd=stage,
                env=env,
                capture_output=True,
                text=True,
                timeout=_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise KustomizeBuildError(f"{rel}: kustomize could not run: {error}") from error
    if done.returncode != 0:
        reason = " ".join(done.stderr.replace(str(stage) + "/", "").split()) or "no output"
        raise KustomizeBuildError(f"kustomize build {rel} failed: {reason}")
    objects: list[tuple[Location, dict[str, Any]]] = []
    sources = _Sources(stage)
    for document in parse_documents(f"kustomize build {rel}", done.stdout):
        if isinstance(document, dict):
            origin = _origin(document, rel)
            where = sources.locate(origin, document) if origin else Location(kustomization_file, 1)
            objects.append((where, document))
    return Built(objects, kustomization_file, generated)


class _Sources:
    """Finds the document an object of kustomize's output was written in: by kind and name
    (a prefix or suffix added by kustomize allowed), each document claimed once."""

    def __init__(self, stage: Path) -> None:
        self.stage = stage
        self.files: dict[str, list[tuple[Location, str, str]]] = {}

    def locate(self, file: str, document: Mapping[str, Any]) -> Location:
        candidates = self.files.get(file)
        if candidates is None:
            candidates = self.files[file] = self._read(file)
        kind = str(document.get("kind") or "")
        name = str((document.get("metadata") or {}).get("name") or "")
        for exact in (True, False):
            for index, (where, k, n) in enumerate(candidates):
                if k == kind and (n == name if exact else bool(n) and n in name):
                    del candidates[index]
                    return where
        for index, (where, k, _n) in enumerate(candidates):
            if k == kind:
                del candidates[index]
                return where
        return Location(file, 1)

    def _read(self, file: str) -> list[tuple[Location, str, str]]:
        try:
            documents = parse_documents(file, (self.stage / file).read_text(errors="replace"))
        except (OSError, ConfigError):
            return []
        out = []
        for number, document in enumerate(documents, start=1):
            for where, data in expand(Location(file, number), document):
                if isinstance(data, Mapping):
                    meta = data.get("metadata")
                    name = meta.get("name") if isinstance(meta, Mapping) else ""
                    out.append((where, str(data.get("kind") or ""), str(name or "")))
        return out


def _origin(document: dict[str, Any], rel: str) -> str:
    """The repository file an object came from (from the origin annotation, then removed)."""
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return ""
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict) or ORIGIN not in annotations:
        return ""
    origin = annotations.pop(ORIGIN)
    if not annotations:
        del metadata["annotations"]
    path = ""
    for line in str(origin).splitlines():
        if line.startswith("path:"):
            path = line.partition(":")[2].strip().strip("'\"")
    if not path:
        return ""
    return os.path.normpath(os.path.join(rel, path)).replace(os.sep, "/")


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()
