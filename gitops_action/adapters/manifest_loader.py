"""Reading the manifests `sync` applies from a directory tree (or one file).

Two ways a directory is read, as Flux's kustomize-controller does without
kustomize:

- **Plain tree**: every `*.yaml`/`*.yml` below it, recursively (`.git`
  skipped, links not followed), in path order; every document of every file.
- **Kustomization**: a directory holding `kustomization.yaml` (or `.yml`, or
  `Kustomization`) contributes only what its `resources:` list names: files,
  and directories (read the same two ways). Remote bases (URLs,
  `github.com/...`, `?ref=`) are refused: sync applies what is in the
  repository, nothing fetched at run time. Every other kustomize feature
  (patches, images, namePrefix, generators, ...) is refused by name rather
  than silently ignored, because applying the un-patched resources would be
  wrong, not just incomplete.

A file reached twice (a base listed by two overlays and also below the root)
is read once. Documents are constructed with PyYAML's safe loader, minus its
timestamp rule: Kubernetes reads `2024-01-01` as a string, not a date.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from gitops_action.adapters.files import SKIP_DIRS, SUFFIXES, decode
from gitops_action.domain.errors import InvalidManifest, InvalidSyncInput
from gitops_action.domain.manifests import Location

KUSTOMIZATION_FILES: Final = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_KUSTOMIZE_GROUP: Final = "kustomize.config.k8s.io"
_SUPPORTED_FIELDS: Final = frozenset({"apiVersion", "kind", "metadata", "resources", "bases"})
_REMOTE_PREFIXES: Final = (
    "github.com/",
    "gitlab.com/",
    "bitbucket.org/",
    "git@",
    "git::",
    "ssh:",
)

Document = tuple[Location, Any]


def load_tree(path: Path) -> list[Document]:
    """Every document under `path` (a directory or a file), with its location."""
    loader = _TreeLoader(path if path.is_dir() else path.parent)
    if path.is_dir():
        return list(loader.directory(path))
    if path.is_file():
        return list(loader.file(path))
    raise InvalidSyncInput(f"{path}: no such file or directory")


class _TreeLoader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.seen_files: set[Path] = set()
        self.active_dirs: list[Path] = []

    def name(self, path: Path) -> str:
        """The path as reported: relative to the root, `/`-separated."""
        return Path(os.path.relpath(path, self.root)).as_posix()

    def directory(self, directory: Path) -> Iterator[Document]:
        real = directory.resolve()
        if real in self.active_dirs:
            chain = " -> ".join(self.name(d) for d in [*self.active_dirs, real])
            raise InvalidSyncInput(f"kustomization cycle: {chain}")
        self.active_dirs.append(real)
        try:
            kustomization = self._kustomization(directory)
            if kustomization is not None:
                yield from self._kustomized(directory, *kustomization)
            else:
                yield from self._plain(directory)
        finally:
            self.active_dirs.pop()

    def _plain(self, directory: Path) -> Iterator[Document]:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    yield from self.directory(Path(entry.path))
            elif entry.name.endswith(SUFFIXES) and entry.is_file(follow_symlinks=False):
                yield from self.file(Path(entry.path))

    def file(self, path: Path) -> Iterator[Document]:
        real = path.resolve()
        if real in self.seen_files:
            return
        self.seen_files.add(real)
        name = self.name(path)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise InvalidManifest(f"{name}: cannot read: {err.strerror}") from err
        for number, document in enumerate(parse_documents(name, decode(name, data)), start=1):
            yield Location(name, number), document

    def _kustomization(self, directory: Path) -> tuple[Path, dict[str, Any]] | None:
        for candidate in KUSTOMIZATION_FILES:
            path = directory / candidate
            if not path.is_file():
                continue
            name = self.name(path)
            documents = parse_documents(name, decode(name, path.read_bytes()))
            data = documents[0] if len(documents) == 1 else None
            if not isinstance(data, dict):
                raise InvalidSyncInput(f"{name}: a kustomization must be one YAML mapping")
            api_version = str(data.get("apiVersion") or _KUSTOMIZE_GROUP)
            if (
                not api_version.startswith(_KUSTOMIZE_GROUP + "/")
                and api_version != _KUSTOMIZE_GROUP
            ):
                return None  # e.g. a Flux Kustomization that happens to be named so: a manifest
            return path, data
        return None

    def _kustomized(self, directory: Path, path: Path, data: dict[str, Any]) -> Iterator[Document]:
        name = self.name(path)
        for field in data:
            if field not in _SUPPORTED_FIELDS:
                raise InvalidSyncInput(
                    f"{name}: kustomize field {field!r} is not supported by sync (only "
                    "resources: lists are read); render the overlay with `kustomize build` "
                    "into plain YAML, or drop the field"
                )
        for field in ("resources", "bases"):
            entries = data.get(field) or []
            if not isinstance(entries, list):
                raise InvalidSyncInput(f"{name}: {field} must be a list of paths")
            for entry in entries:
                yield from self._resource(directory, name, field, entry)

    def _resource(self, directory: Path, name: str, field: str, entry: Any) -> Iterator[Document]:
        if not isinstance(entry, str) or not entry.strip():
            raise InvalidSyncInput(f"{name}: {field} entry {entry!r} is not a path")
        if is_remote(entry):
            raise InvalidSyncInput(
                f"{name}: {field} entry {entry!r} is a remote base; sync only applies files "
                "from the repository (vendor the base into the repository)"
            )
        target = directory / entry
        if target.is_dir():
            yield from self.directory(target)
        elif target.is_file():
            yield from self.file(target)
        else:
            raise InvalidSyncInput(f"{name}: {field} entry {entry!r} does not exist")


def is_remote(entry: str) -> bool:
    """True for kustomize entries that name something outside the repository."""
    text = entry.strip()
    return (
        "://" in text
        or "?ref=" in text
        or "?version=" in text
        or text.startswith(_REMOTE_PREFIXES)
        or ("//" in text and not text.startswith("/"))
    )


@functools.cache
def _loader_class() -> type:
    """PyYAML's safe loader (libyaml when built in) without the timestamp resolver."""
    import yaml

    base = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    resolvers = {
        first: [(tag, regexp) for tag, regexp in rules if tag != "tag:yaml.org,2002:timestamp"]
        for first, rules in base.yaml_implicit_resolvers.items()
    }
    return type("ManifestLoader", (base,), {"yaml_implicit_resolvers": resolvers})


def parse_documents(file: str, text: str) -> list[Any]:
    """Every document of a YAML stream (empty ones as None), naming file and line on error."""
    import yaml

    loader = _loader_class()(text)
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = ": ".join(part for part in (err.context, err.problem) if part) or "parse error"
        raise InvalidManifest(f"{file}:{line}: invalid YAML: {reason}") from err
    except yaml.YAMLError as err:
        raise InvalidManifest(f"{file}: invalid YAML: {' '.join(str(err).split())}") from err
    finally:
        loader.dispose()


def render_yaml(data: Any) -> str:
    """Block-style YAML in the object's own key order (for diffs)."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", None) or yaml.SafeDumper
    return str(yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False))
