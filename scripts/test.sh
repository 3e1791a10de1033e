#!/usr/bin/env bash
# The project's whole check: lint, types, layering, then every test against real
# services on 127.0.0.1. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff" >&2;          ruff check . && ruff format --check .
echo "== mypy --strict" >&2; mypy
echo "== import-linter" >&2; lint-imports
echo "== pytest" >&2;        pytest "$@"
