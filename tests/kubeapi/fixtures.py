"""Fixtures for the in-process Kubernetes API stand-in."""
