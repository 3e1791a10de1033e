"""YAML for `sync`: parsing documents (kustomize's output, kustomization files) and
rendering objects back (diffs, kustomization files, postBuild substitution).

Kustomize itself reads the repository (`adapters.kustomize`); this module only
turns text into plain data and back. Documents are constructed with PyYAML's
safe loader, minus its timestamp rule: Kubernetes reads `2024-01-01` as a
string, not a date.
"""

from __future__ import annotations

import functools
from typing import Any

from gitops_action.adapters.yaml_limits import MAX_STREAM_BYTES, check_node, check_size
from gitops_action.domain.errors import InvalidManifest


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

    check_size(file, text, limit=MAX_STREAM_BYTES)
    loader = _loader_class()(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                check_node(file, node)  # alias bombs, cycles, depth: before building
            documents.append(None if node is None else loader.construct_document(node))
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


def render_unfolded(data: Any) -> str:
    """YAML with sorted keys and no line folding, as Flux renders an object before its
    postBuild substitution (a folded line could split a `${var:=a b}` reference)."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", None) or yaml.SafeDumper
    return str(
        yaml.dump(data, Dumper=dumper, sort_keys=True, default_flow_style=False, width=2**31 - 1)
    )
