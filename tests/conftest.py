"""Shared pytest set-up: the real services and the real Kubernetes control plane
(testbed/) and the GitHub API stub are plugged in as fixture modules so any test
can ask for them by name."""

pytest_plugins = [
    "testbed.fixtures",
    "testbed.buildkit_fixtures",
    "testbed.kube_fixtures",
    "testbed.githubapi.fixtures",
    "testbed.kustomize",
]
