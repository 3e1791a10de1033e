#!/usr/bin/env bash
# The README's main job: a local walk-through of the image-automation core over
# the seed tutorial's config in cluster/. Nothing outside a temp dir is changed.
#   1. the registry "has" some tags; `policy select` picks the one the
#      ImagePolicy in cluster/app-policy.yaml (semver ^v1.0.0) would pick, and explains why;
#   2. `update --dry-run` shows the one-line diff on the marked image line;
#   3. `update` writes it (atomically), a second run is a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r cluster "$work/cluster"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

range=$(sed -n 's/^ *range: *//p' cluster/app-policy.yaml)
image=$(sed -n 's/^ *image: *//p' cluster/app-registry.yaml)
tags='v1.0.0
v1.0.1
v1.1.0
v1.10.0-rc.1
v2.0.0
latest
sha-1a2b3c4
v1.1.0.sig'

say "Tags in the registry for $image"
printf '%s\n' "$tags"

say "gitops-action policy select --semver '$range' --explain"
selected=$(printf '%s\n' "$tags" | gitops-action policy select --semver "$range" --explain)
echo "selected: $selected"

say "gitops-action update cluster --set flux-system:app=$image:$selected --dry-run"
gitops-action update "$work/cluster" --set "flux-system:app=$image:$selected" --dry-run

say "gitops-action update cluster --set flux-system:app=$image:$selected --output json"
gitops-action update "$work/cluster" --set "flux-system:app=$image:$selected" --output json

say "Only the marked bytes changed"
diff -u cluster/deployment.yaml "$work/cluster/deployment.yaml" || true

say "A second run is a no-op (nothing to change, no file rewritten)"
gitops-action update "$work/cluster" --set "flux-system:app=$image:$selected"

say "Summary"
echo "policy flux-system:app ($range) selected $selected from $(printf '%s\n' "$tags" | wc -l) tags;"
echo "cluster/deployment.yaml now pins $image:$selected (your cluster/ is untouched: this ran on a copy)."
