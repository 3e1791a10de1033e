"""Test infrastructure shared by tests/, bench/ and scripts/demo.py: the real services
(registry, dockerd, git, Prometheus, the Kubernetes control plane), started on free
127.0.0.1 ports, and the GitHub API stub."""
