# The gitops-action tool itself (the CD half's CronJob runs this image).
# Minimal on purpose: python:3.11-slim, the package with its `cd` extras, git
# (the automation commits and pushes with the git CLI), and a non-root user.
# Built and pushed to GHCR by .github/workflows/release.yml with `uses: ./`.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md entrypoint.py ./
COPY gitops_action ./gitops_action
RUN pip install --no-cache-dir --disable-pip-version-check --prefix=/install ".[cd]"

FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --user-group gitops
COPY --from=build /install /usr/local
USER 10001:10001
WORKDIR /home/gitops
ENV GIT_TERMINAL_PROMPT=0 PYTHONDONTWRITEBYTECODE=1
ENTRYPOINT ["gitops-action"]
CMD ["--help"]
