#!/usr/bin/env bash
# A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok nodes) on 127.0.0.1, the same one the tests start.
#   scripts/cluster.sh up     build if needed (minutes, once), start, print `export KUBECONFIG=...`
#   scripts/cluster.sh env    print the export line again
#   scripts/cluster.sh down   stop it and remove its state
# State lives in $GITOPS_CLUSTER_DIR (default ~/.cache/gitops-action/cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh >&2
exec .venv/bin/python -m testbed.cluster_cli "$@"
