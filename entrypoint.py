"""Entry point for the composite action and `python entrypoint.py ...`."""

from gitops_action.cli import main

if __name__ == "__main__":
    main()
