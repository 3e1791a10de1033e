"""Shared pytest set-up: real services (testbed) and the Kubernetes API
stand-in (tests/kubeapi) are plugged in as fixture modules so any test can ask
for them by name."""

pytest_plugins = [
    "testbed.fixtures",
    "testbed.buildkit_fixtures",
    "tests.kubeapi.fixtures",
    "testbed.githubapi.fixtures",
]
