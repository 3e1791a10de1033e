"""Use cases: wire the domain to adapters."""
