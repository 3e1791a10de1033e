"""Loading Flagger `Canary` and `MetricTemplate` objects from a directory of YAML files.

The same walk as the Flux config loader (`config_loader`): only files whose
bytes mention ``flagger.app`` are read, only documents that mention it are
parsed, and YAML errors name the file and line. Validation is the domain's
(`gitops_action.domain.canary_config`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from gitops_action.adapters.config_loader import parse_chunk, split_documents
from gitops_action.adapters.files import decode, find_candidates
from gitops_action.domain.canary_config import (
    BUILTIN_DEFAULT,
    DEFAULT_NAMESPACE,
    GROUP,
    CanaryConfig,
    ProviderDefault,
)
from gitops_action.domain.config import Document, Source

NEEDLE: Final = GROUP.encode()


def load_canaries(
    root: Path,
    default_namespace: str = DEFAULT_NAMESPACE,
    default_provider: ProviderDefault = BUILTIN_DEFAULT,
) -> CanaryConfig:
    """Every Canary and MetricTemplate under `root`, validated and cross-checked."""
    return CanaryConfig.from_documents(read_documents(root), default_namespace, default_provider)


def read_documents(root: Path) -> Iterator[Document]:
    for candidate in find_candidates(root, NEEDLE):
        text = decode(candidate.file, candidate.data)
        for number, first_line, chunk in split_documents(text):
            if GROUP not in chunk:
                continue
            data, line = parse_chunk(candidate.file, chunk, first_line)
            if isinstance(data, dict):
                yield Document(Source(candidate.file, number, line), data)
