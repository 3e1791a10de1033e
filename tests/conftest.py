"""Shared pytest set-up: real services (tests/services) and the Kubernetes API
stand-in (tests/kubeapi) are plugged in as fixture modules so any test can ask
for them by name."""

pytest_plugins = [
    "tests.services.fixtures",
    "tests.kubeapi.fixtures",
    "tests.githubapi.fixtures",
]
