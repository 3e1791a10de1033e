"""`install --export`: render the in-cluster install as a YAML stream or a JSON List.

Applying is left to `kubectl apply -f -` (docs/install.md): installing needs
cluster-admin rights (it grants RBAC), which the tool's own ServiceAccount
must never have, so the tool does not apply its own install.
"""

from __future__ import annotations

import json

from gitops_action.adapters.yaml_render import render_stream
from gitops_action.domain.install import InstallOptions, header, render


def export(options: InstallOptions, output: str = "yaml") -> str:
    """The whole install as text: `yaml` (a commented multi-document stream) or `json`."""
    objects = render(options.validate())
    if output == "json":
        listing = {"apiVersion": "v1", "kind": "List", "items": objects}
        return json.dumps(listing, indent=2) + "\n"
    return render_stream(objects, header(options))
