"""Registry credentials go to a token realm only over HTTPS or on the registry's host.

A hostile registry on 127.0.0.1 names a plain-HTTP token realm on another
host (`localhost`, still the loopback) that records what it is sent.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from gitops_action.adapters.docker_config import Credentials
from gitops_action.adapters.registry import RegistryClient
from gitops_action.domain.errors import RegistryError
from testbed.hostile import hostile_server

pytestmark = pytest.mark.services


def _empty(handler: BaseHTTPRequestHandler) -> None:
    body = b'{"token": "t"}'
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _challenging(realm: str):
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(401)
        handler.send_header("WWW-Authenticate", f'Bearer realm="{realm}",service="x"')
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def test_basic_credentials_never_go_to_a_plain_http_realm_on_another_host() -> None:
    with hostile_server(_empty, "realm") as (realm_port, realm):
        challenge = _challenging(f"http://localhost:{realm_port}/token")
        with hostile_server(challenge, "registry") as (port, registry):
            host = f"127.0.0.1:{port}"
            credentials = Credentials("robot", "registry-pa55")
            with (
                RegistryClient(insecure_hosts=[host], rate=None) as client,
                pytest.raises(RegistryError) as raised,
            ):
                client.list_tags(f"{host}/app", credentials=credentials)
    assert registry.requests, "the registry was asked"
    assert realm.authorizations() == []
    assert "another host" in str(raised.value)
    assert "registry-pa55" not in str(raised.value)
