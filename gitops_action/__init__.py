"""gitops-action: Flux-style image automation and Flagger-style canaries, plus a CI action."""

__version__ = "0.1.0"
