#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian/Ubuntu machine:
# the Debian packages behind the real test services (and shellcheck for action.yml's scripts), and a virtualenv in .venv
# with the package and its test extras. Safe to run again (it only adds what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

need_debs=()
command -v git >/dev/null || need_debs+=(git)
command -v dockerd >/dev/null || need_debs+=(docker.io)
command -v docker-registry >/dev/null || need_debs+=(docker-registry)
command -v prometheus >/dev/null || need_debs+=(prometheus)
command -v htpasswd >/dev/null || need_debs+=(apache2-utils)
command -v shellcheck >/dev/null || need_debs+=(shellcheck)
# busybox-static: the base image for RUN steps in the BuildKit tests (testbed/base_images.py)
dpkg -s busybox-static >/dev/null 2>&1 || need_debs+=(busybox-static)
if ((${#need_debs[@]})); then
  echo "bootstrap: installing Debian packages: ${need_debs[*]}" >&2
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need_debs[@]}" >/dev/null
  # The packages' own services are not wanted: tests start their own on free ports.
  for svc in docker containerd prometheus docker-registry; do
    $sudo service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# BuildKit (buildkitd, buildctl) and the docker buildx plugin from their Go modules
# (tools/buildkit): `ci run` builds through `docker buildx build`, as on GitHub's
# runners, so the plugin goes where the docker CLI finds it for every DOCKER_CONFIG.
buildkit_bin=$(nice -n 10 tools/build.sh buildkit)
plugins=/usr/local/lib/docker/cli-plugins
if [ "$(readlink "$plugins/docker-buildx" 2>/dev/null)" != "$buildkit_bin/buildx" ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo mkdir -p "$plugins"
  $sudo ln -sfn "$buildkit_bin/buildx" "$plugins/docker-buildx"
  echo "bootstrap: docker buildx plugin linked into $plugins" >&2
fi
# act (nektos/act, tools/act): runs action.yml under a real workflow engine in the tests
nice -n 10 tools/build.sh act >/dev/null

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)
if [ ! -e "$stamp" ]; then
  echo "bootstrap: installing the package and its test tools into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  # compat mode: a plain path entry instead of setuptools' import-hook finder,
  # which costs ~9 ms at every start of the CLI (bench/README.md measures starts).
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' \
    --config-settings editable_mode=compat
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# kustomize (sync builds every Flux Kustomization with it), from its Go module at the
# version Flux pins (tools/kustomize); tools/build.sh caches it by module, so only the
# first run on a machine compiles (about 30 s on 2 cores).
tools/build.sh kustomize >/dev/null

# The real Kubernetes control plane behind the cluster tests, the demo and
# scripts/cluster.sh: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
# and etcd (tools/kube, k8s.io/kubernetes v1.35.4) and kwok (tools/kwok). A first build
# on a new 2-core machine takes about 8 + 4 minutes (a progress line every 15 s).
tools/build.sh kube kwok >/dev/null

# The oracle (tools/oracle: Flux's version parsing, Masterminds semver, Go regexp and
# text/template with Sprig) for the property tests in tests/unit/domain; a few seconds.
tools/build.sh oracle >/dev/null
