"""A local GitHub REST API stub for PyGithub, and the runner's file formats."""
