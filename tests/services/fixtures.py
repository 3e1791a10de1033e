"""Session fixtures for the real services (registry, dockerd, git, prometheus)."""
