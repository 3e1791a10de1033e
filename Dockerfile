# The gitops-action tool: the image the in-cluster CronJob runs (docs/install.md).
#
# Promises (checked statically by tests/unit/test_install.py; the image is built by
# .github/workflows/release.yml with `uses: ./`, never in this repo's tests):
# - a pinned base tag (override PYTHON_IMAGE with a digest to pin it fully);
# - runs as uid/gid 65532, a numeric non-root USER that Kubernetes' runAsNonRoot can verify;
# - works with a read-only root filesystem: HOME is /tmp, the caches are /cache
#   (XDG_CACHE_HOME, GITOPS_CACHE_DIR), both emptyDirs in the CronJob; bytecode is
#   compiled at build time and never written at run time;
# - git and ssh for the config repo; no pip cache; OCI labels come from the action.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG GO_IMAGE=golang:1.26-bookworm

# kustomize, built from its Go module at the version Flux's kustomize-controller pins
# (tools/kustomize/go.mod), the same way tools/build.sh builds it for the tests: sync
# renders every Flux Kustomization with it.
FROM ${GO_IMAGE} AS kustomize
WORKDIR /src
COPY tools/kustomize/ ./
RUN CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
      -ldflags "-s -w $(grep -v '^#' ldflags | tr '\n' ' ')" -o /out/ tool

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md entrypoint.py ./
COPY gitops_action ./gitops_action
RUN pip install --prefix=/install ".[cd]"

FROM ${PYTHON_IMAGE}
# ssh and git look the user up in /etc/passwd, so uid 65532 gets an entry.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 gitops \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /tmp \
      --shell /usr/sbin/nologin gitops \
 && install -d -o 65532 -g 65532 -m 0750 /cache
COPY --from=build /install /usr/local
COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize
ENV HOME=/tmp \
    XDG_CACHE_HOME=/cache \
    GITOPS_CACHE_DIR=/cache \
    GIT_TERMINAL_PROMPT=0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["gitops-action"]
CMD ["--help"]
