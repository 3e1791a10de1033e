"""The HTTP face of the stand-in: routing, authentication, knobs, the request log.

`StandIn` is the whole fake cluster minus sockets; `KubeApiServer` serves it on a
free 127.0.0.1 port from a thread (ThreadingHTTPServer, keep-alive) so the real
`kubernetes` client and kubectl talk to it like to any API server over plain HTTP.
One lock serialises requests: the store never sees two writes at once, as etcd's
compare-and-swap would guarantee on a real cluster.
"""

from __future__ import annotations

import json
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.kubeapi import discovery, errors
from tests.kubeapi.bootstrap import seed_cluster
from tests.kubeapi.controllers import Controllers
from tests.kubeapi.knobs import Knobs, RequestAttributes
from tests.kubeapi.operations import Api, Options, Target, load_yaml
from tests.kubeapi.recorder import Recorder, Request
from tests.kubeapi.store import Clock, Store
from testbed.threaded_server import ThreadedHttpServer

Response = tuple[int, dict[str, str], bytes]
_NAMESPACE_SUBRESOURCES = ("status", "finalize")


def _json(code: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    out = {"Content-Type": "application/json", **(headers or {})}
    return code, out, json.dumps(body).encode()


def _flag(query: dict[str, list[str]], name: str) -> bool | None:
    values = query.get(name)
    if not values:
        return None
    return values[-1].lower() in ("true", "1")


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


class StandIn:
    """A fake cluster: store, verbs, controllers, knobs and the request log."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self.recorder = Recorder()
        self.knobs = Knobs()
        self.store = Store(self.clock)
        self.api = Api(self.store)
        self.controllers = Controllers(self.store)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.clock.offset = 0.0
            self.store = Store(self.clock)
            self.api = Api(self.store)
            seed_cluster(self.api)
            self.controllers.store = self.store
            self.controllers.reset()
            self.recorder.reset()
            self.knobs.reset()

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        url = urlsplit(raw_path)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query, keep_blank_values=True)
        lowered = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            info: dict[str, Any] = {}
            try:
                self.controllers.tick()
                self._authenticate(lowered)
                response = self._route(method, path, query, lowered, body, info)
            except errors.ApiError as err:
                response = _json(err.code, err.status(), err.headers)
            except Exception as err:  # a stand-in bug: answer 500 and say where, never hang up
                traceback.print_exc()
                bug = errors.ApiError(500, "InternalError", f"stand-in bug: {err!r}")
                response = _json(500, bug.status())
            self.recorder.record(
                Request(
                    method=method,
                    path=path,
                    query=url.query,
                    verb=info.get("verb", ""),
                    group=info.get("group", ""),
                    version=info.get("version", ""),
                    resource=info.get("resource", ""),
                    namespace=info.get("namespace", ""),
                    name=info.get("name", ""),
                    code=response[0],
                    dry_run=info.get("dry_run", False),
                    field_manager=_one(query, "fieldManager"),
                    content_type=lowered.get("content-type", ""),
                    user_agent=lowered.get("user-agent", ""),
                )
            )
            return response

    def _authenticate(self, headers: dict[str, str]) -> None:
        """Anonymous requests are let in as the test user; a wrong token is a 401."""
        auth = headers.get("authorization")
        if auth is not None and auth != f"Bearer {self.knobs.token}":
            raise errors.unauthorized()

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        info: dict[str, Any],
    ) -> Response:
        if path in ("/healthz", "/livez", "/readyz"):
            return 200, {"Content-Type": "text/plain"}, b"ok"
        parts = path.strip("/").split("/")
        if parts[0] == "api" and (len(parts) == 1 or parts[1] == "v1"):
            group, version, rest = "", "v1", parts[2:]
            if len(parts) == 1:
                return self._discovery(method, discovery.core_versions())
        elif parts[0] == "apis" and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        elif parts[0] == "apis" and len(parts) == 2:
            return self._discovery(method, discovery.group(self.store.registry, parts[1]))
        elif path == "/apis":
            return self._discovery(method, discovery.group_list(self.store.registry))
        elif path == "/version":
            return self._discovery(method, discovery.VERSION_INFO)
        elif path == "/openapi/v3":
            return self._discovery(method, discovery.openapi_v3_index(self.store.registry))
        elif path.startswith("/openapi/v3/"):
            rest = path[len("/openapi/v3/") :].split("/")
            group, version = (
                ("", rest[-1]) if rest[0] == "api" else (rest[1] if len(rest) > 2 else "", rest[-1])
            )
            return self._discovery(
                method, discovery.openapi_v3_document(self.store.registry, group, version)
            )
        else:
            raise errors.path_not_found()
        if not rest:
            return self._discovery(
                method, discovery.resource_list(self.store.registry, group, version)
            )
        return self._resource(method, group, version, rest, query, headers, body, info)

    def _discovery(self, method: str, document: dict[str, Any] | None) -> Response:
        if document is None:
            raise errors.path_not_found()
        if method != "GET":
            raise errors.method_not_allowed()
        return _json(200, document)

    def _resource(
        self,
        method: str,
        group: str,
        version: str,
        segs: list[str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        info: dict[str, Any],
    ) -> Response:
        namespace = ""
        if segs[0] == "namespaces" and len(segs) >= 3 and segs[2] not in _NAMESPACE_SUBRESOURCES:
            namespace, segs = segs[1], segs[2:]
        if len(segs) > 3 or any(not s for s in segs):
            raise errors.path_not_found()
        plural, name = segs[0], segs[1] if len(segs) > 1 else ""
        subresource = segs[2] if len(segs) > 2 else ""
        verb = self._verb(method, name, query)
        dry_run = self._dry_run(query)
        info.update(
            verb=verb,
            group=group,
            version=version,
            namespace=namespace,
            name=name,
            resource=f"{plural}/{subresource}" if subresource else plural,
            dry_run=dry_run,
        )
        # As on a real server, a request for namespace "x" itself is "in the namespace x".
        authz_namespace = name if (group, plural) == ("", "namespaces") and name else namespace
        attrs = RequestAttributes(verb, group, plural, subresource, authz_namespace, name)
        self.knobs.authorize(attrs)
        self.knobs.inject(attrs)
        rt = self.store.registry.lookup(group, version, plural)
        if rt is None or (namespace and not rt.namespaced):
            raise errors.path_not_found()
        if subresource and not (
            (subresource == "status" and rt.status) or (subresource == "scale" and rt.scale)
        ):
            raise errors.path_not_found()
        if rt.namespaced and not namespace and verb not in ("list", "watch", "deletecollection"):
            raise errors.path_not_found()
        target = Target(rt, namespace, name, subresource)
        options = Options(
            dry_run=dry_run,
            field_manager=_one(query, "fieldManager"),
            force=_flag(query, "force"),
            user_agent=headers.get("user-agent", ""),
            propagation=_one(query, "propagationPolicy"),
            label_selector=_one(query, "labelSelector"),
            field_selector=_one(query, "fieldSelector"),
            limit=int(_one(query, "limit") or 0) or None,
            continue_token=_one(query, "continue"),
        )
        content_type = headers.get("content-type", "application/json")
        if verb in ("get", "list"):
            code, out = self.api.get(target) if verb == "get" else self.api.list(target, options)
            if "as=table" in headers.get("accept", "").lower().replace(" ", "") and not subresource:
                out = discovery.table(out, self.clock.wall())
        elif verb == "watch":
            raise errors.bad_request(
                "watch is not supported by the gitops-action Kubernetes stand-in"
            )
        elif verb == "create":
            code, out = self.api.create(target, _decode(body, content_type), options)
        elif verb == "update":
            code, out = self.api.update(target, _decode(body, content_type), options)
        elif verb == "patch":
            code, out = self.api.patch(target, body, content_type, options)
        elif verb == "delete":
            code, out = self.api.delete(
                target, _decode(body, content_type) if body else None, options
            )
        else:
            code, out = self.api.delete_collection(
                target, _decode(body, content_type) if body else None, options
            )
        return _json(code, out)

    def _verb(self, method: str, name: str, query: dict[str, list[str]]) -> str:
        if method == "GET":
            if name:
                return "get"
            return "watch" if _flag(query, "watch") else "list"
        verbs = {
            "POST": ("create", None),
            "PUT": (None, "update"),
            "PATCH": (None, "patch"),
            "DELETE": ("deletecollection", "delete"),
        }
        if method not in verbs:
            raise errors.method_not_allowed()
        verb = verbs[method][1 if name else 0]
        if verb is None:
            raise errors.method_not_allowed()
        return verb

    def _dry_run(self, query: dict[str, list[str]]) -> bool:
        values = query.get("dryRun") or []
        for value in values:
            if value != "All":
                raise errors.bad_request(f'Invalid dryRun value "{value}": supported values: "All"')
        return bool(values)


def _decode(body: bytes, content_type: str) -> Any:
    if "yaml" in content_type:
        return load_yaml(body)
    try:
        return json.loads(body or b"null")
    except ValueError as err:
        raise errors.bad_request(f"the request body could not be decoded: {err}") from err


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each response would
    # wait out the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        body = self._body()
        code, headers, payload = self.server.standin.handle(
            self.command, self.path, dict(self.headers.items()), body
        )
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is in the recorder."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: StandIn


class KubeApiServer:
    """Serve a StandIn on 127.0.0.1:<free port> until stop()."""

    def __init__(self, standin: StandIn | None = None) -> None:
        self.standin = standin or StandIn()
        self._http = ThreadedHttpServer(
            _Handler, name="kube-standin", poll_interval=0.5, server_class=_Server
        )

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> KubeApiServer:
        # No request can arrive before start() returns: nobody knows the port yet.
        server = self._http.start()
        assert isinstance(server, _Server)
        server.standin = self.standin
        return self

    def stop(self) -> None:
        self._http.stop()

    def write_kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        """A kubeconfig with one context: this server, a bearer-token user."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "gitops-standin", "cluster": {"server": self.url}}],
            "users": [{"name": "gitops-action", "user": {"token": self.standin.knobs.token}}],
            "contexts": [
                {
                    "name": "gitops-standin",
                    "context": {
                        "cluster": "gitops-standin",
                        "user": "gitops-action",
                        "namespace": namespace,
                    },
                }
            ],
            "current-context": "gitops-standin",
            "preferences": {},
        }
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path
