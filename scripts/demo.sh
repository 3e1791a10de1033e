#!/usr/bin/env bash
# The README's main job: the whole GitOps loop on this machine, no cloud account.
# Installs what it needs (scripts/bootstrap.sh), then runs scripts/demo.py, which
# starts a local registry, dockerd and git server (the real services the tests
# use), releases v1.0.0 and v1.1.0 through `gitops-action ci run`, runs
# `reconcile` after each, shows the bump commit, syncs to the cluster in
# KUBECONFIG (else to the tests' in-process Kubernetes API stand-in, and says so),
# prints a summary and stops everything it started, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# Without KUBECONFIG the demo starts a real control plane: build it first (once, minutes),
# so its progress line is seen.
if [ -z "${KUBECONFIG:-}" ]; then tools/build.sh kube kwok >/dev/null; fi
exec .venv/bin/python scripts/demo.py "$@"
