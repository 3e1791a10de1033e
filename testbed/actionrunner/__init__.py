"""A runner-like harness that executes a composite action.yml (see runner.py)."""
