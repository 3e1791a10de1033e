"""Loading the Flux image automation config from a directory of YAML files.

The config repo can hold ten thousand manifests, of which a handful are
``image.toolkit.fluxcd.io`` objects. So the loader does the least work that
finds them:

1. walk the tree once (`*.yaml`/`*.yml`, `.git` skipped, links not followed)
   and keep only files whose bytes contain ``image.toolkit.fluxcd.io`` (the
   same cheap search `update` uses for markers);
2. split those files into YAML documents at their ``---`` lines, and parse
   only the documents whose text mentions the group: a Deployment or a Helm
   template in the same file is never parsed, so it cannot break loading;
3. hand each document (dict + file, document number, line) to
   `gitops_action.domain.config`, which validates everything.

Documents are split on lines, not by a parser: a line that starts with
``---`` or ``...`` followed by white space or its end is a document marker
anywhere at column 0 in YAML (it even ends a block scalar), so the split
matches what a YAML parser would see. Document numbers count documents as a
reader of the file does (1-based; a leading ``---`` does not start an empty
document before it).

YAML errors name the file and the line in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from gitops_action.adapters.files import decode, find_candidates
from gitops_action.adapters.yaml_limits import check_node, check_size
from gitops_action.domain.config import DEFAULT_NAMESPACE, GROUP, Document, FluxConfig, Source
from gitops_action.domain.errors import InvalidManifest

NEEDLE: Final = GROUP.encode()

_MARKER: Final = re.compile(r"(---|\.\.\.)(?:[ \t\r].*)?\Z", re.DOTALL)
_CONTENT: Final = re.compile(r"[ \t]*[^\s#%]")
# Lines as YAML and git count them: split after "\n" only (str.splitlines also
# splits at form feeds and Unicode separators).
_LINES: Final = re.compile(r"[^\n]*\n|[^\n]+")


def load_config(root: Path, default_namespace: str = DEFAULT_NAMESPACE) -> FluxConfig:
    """The validated config of every Flux image object under `root`.

    Pass the repository root (or the directory that holds all the objects):
    a policy whose ImageRepository is outside `root` is reported as missing.
    """
    return FluxConfig.from_documents(read_documents(root), default_namespace)


def read_documents(root: Path) -> Iterator[Document]:
    """Every document under `root` that mentions the group, parsed, in file order."""
    for candidate in find_candidates(root, NEEDLE):
        text = decode(candidate.file, candidate.data)
        yield from documents_in(candidate.file, text)


def documents_in(file: str, text: str) -> Iterator[Document]:
    """The mapping documents of one file that mention the group."""
    for number, first_line, chunk in split_documents(text):
        if GROUP not in chunk:
            continue
        data, line = parse_chunk(file, chunk, first_line)
        if isinstance(data, dict):
            yield Document(Source(file, number, line), data)


def split_documents(text: str) -> Iterator[tuple[int, int, str]]:
    """(document number, 0-based first line, text) for each document of a YAML stream."""
    lines = _LINES.findall(text)
    number = 0
    start = 0
    explicit = False
    for index, line in enumerate(lines):
        marker = _MARKER.match(line.rstrip("\n"))
        if marker is None:
            continue
        if marker.group(1) == "---":
            chunk = "".join(lines[start:index])
            if explicit or _has_content(chunk):
                number += 1
                yield number, start, chunk
            start, explicit = index, True
        else:  # "..." ends the current document
            chunk = "".join(lines[start : index + 1])
            if explicit or _has_content(chunk):
                number += 1
                yield number, start, chunk
            start, explicit = index + 1, False
    chunk = "".join(lines[start:])
    if explicit or _has_content(chunk):
        yield number + 1, start, chunk


def _has_content(chunk: str) -> bool:
    """True when the text holds more than blank lines, comments and directives."""
    return any(_CONTENT.match(line) for line in _LINES.findall(chunk))


def parse_chunk(file: str, chunk: str, first_line: int) -> tuple[Any, int]:
    """(constructed data, 1-based line in the file where its content starts)."""
    import yaml  # lazily: importing yaml is most of a cold start

    check_size(file, chunk, first_line + 1)
    loader_class = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    loader = loader_class(chunk)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, first_line + 1
        check_node(file, node, first_line)  # alias bombs, cycles, depth: before building
        return loader.construct_document(node), first_line + node.start_mark.line + 1
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = first_line + (mark.line if mark is not None else 0) + 1
        reason = ": ".join(part for part in (err.context, err.problem) if part) or "parse error"
        raise InvalidManifest(f"{file}:{line}: invalid YAML: {reason}") from err
    except yaml.YAMLError as err:
        raise InvalidManifest(
            f"{file}:{first_line + 1}: invalid YAML: {' '.join(str(err).split())}"
        ) from err
    finally:
        loader.dispose()
