"""The HTTP side: requests to the page's own files and to the JSON API, answered by a bounded pool of workers.

Only the files named in ``STATIC_FILES`` are served (a fixed table, so no path can reach anything else).
Every refusal, of the API or of the server itself, is a 4xx or 5xx with ``{"error": "..."}``; a request that
breaks something unexpected gets a 500 with a one-line error and leaves the server running. How clients are
kept from stalling it is the job of :mod:`netkit.web.connections`.

A browser sends any site's form to any address, this server's included, and a page on another domain can
point that domain at 127.0.0.1. So requests must name this server in Host, and a POST must carry a JSON
content type (which no form can send, and no other site's script can send without this server agreeing,
which it never does) and, if it says where it comes from, come from this server's own page.
"""

from __future__ import annotations

import errno
import importlib.resources
import io
import ipaddress
import json
import socket
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from netkit.errors import NetkitError

from .connections import Address, ConnectionLoop, Limits
from .errors import ApiError
from .routes import App

STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/charts.js": ("charts.js", "text/javascript; charset=utf-8"),
    "/colors.js": ("colors.js", "text/javascript; charset=utf-8"),
    "/requests.js": ("requests.js", "text/javascript; charset=utf-8"),
    "/network.js": ("network.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/playground.html": ("playground.html", "text/html; charset=utf-8"),
    "/playground.js": ("playground.js", "text/javascript; charset=utf-8"),
    "/playground.css": ("playground.css", "text/css; charset=utf-8"),
}
ALLOWED_METHODS = "GET, HEAD, POST"
# No other site may frame the page (to trick a click onto it).
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
}


def _static_files() -> dict[str, tuple[bytes, str]]:
    folder = importlib.resources.files(__package__ or "netkit.web") / "static"
    return {path: ((folder / name).read_bytes(), kind) for path, (name, kind) in STATIC_FILES.items()}


class NetkitServer:
    """The page's server on one listening socket: ``serve_forever`` in one thread, ``shutdown`` from another."""

    def __init__(self, address: tuple[str, int], app: App, limits: Limits | None = None) -> None:
        self.app, self.limits = app, limits or Limits()
        self.static = _static_files()
        family, _, _, _, sockaddr = socket.getaddrinfo(*address, type=socket.SOCK_STREAM)[0]
        self.socket = socket.create_server(sockaddr[:2], family=family, backlog=self.limits.backlog)
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self._loop = ConnectionLoop(self.socket, self.answer, self.limits)

    def answer(self, request: bytes, client: Address) -> tuple[bytes, bool]:
        """A whole request's reply, and whether to close the connection after it (runs on a worker)."""
        handler = RequestHandler.answering(request, client, self)
        return handler.reply, handler.close_connection

    def serve_forever(self) -> None:
        self._loop.run()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (from another thread) and wait until it has returned."""
        self._loop.stop()

    def server_close(self) -> None:
        self._loop.close()

    @property
    def host_port(self) -> str:
        host, port = self.server_address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def allowed_hosts(self) -> frozenset[str] | None:
        """The Host headers a loopback-bound server answers (None: any, when bound beyond this machine).

        A web page elsewhere can point its own domain name at 127.0.0.1 (DNS rebinding); its requests
        then carry that name in Host, and are refused.
        """
        host, port = self.server_address
        if not ipaddress.ip_address(host).is_loopback:
            return None
        return frozenset({self.host_port, f"localhost:{port}", f"127.0.0.1:{port}"})

    @property
    def url(self) -> str:
        return f"http://{self.host_port}/"


class RequestHandler(BaseHTTPRequestHandler):
    """One request, read from its bytes and answered into ``reply``: a worker never touches the socket."""

    server: NetkitServer  # type: ignore[assignment]
    reply = b""
    protocol_version = "HTTP/1.1"
    server_version = "netkit"

    @classmethod
    def answering(cls, request: bytes, client: Address, server: NetkitServer) -> RequestHandler:
        """The handler after answering ``request``: its ``reply`` bytes and ``close_connection``."""
        handler = cls.__new__(cls)  # not __init__, which would read from and write to a socket
        handler.client_address, handler.server = client, server
        handler.rfile, out = io.BytesIO(request), io.BytesIO()
        handler.wfile = out
        handler.close_connection = True
        handler.handle_one_request()
        handler.reply = out.getvalue()
        return handler

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the URL and errors, not a line per request."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a bad request line, an unknown method) as JSON too."""
        if self.request_version == "HTTP/0.9":  # not parsed yet: answer as HTTP/1.0 rather than bare
            self.request_version = "HTTP/1.0"
        self.close_connection = True
        self._send_json(code, {"error": message or HTTPStatus(code).phrase})

    # ---- methods ---------------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        if self._foreign_host():
            return
        parts = urlsplit(self.path)
        if not parts.path.startswith("/api/"):
            self._send_static(parts.path)
            return
        self._answer(lambda: self.server.app.get(parts.path, parse_qs(parts.query)))

    def do_HEAD(self) -> None:
        self.do_GET()  # _send leaves out the body of a HEAD

    def do_POST(self) -> None:
        if self._foreign_host():
            return
        path = urlsplit(self.path).path

        def post() -> dict[str, Any]:
            self.server.app.check_post(path)
            self._check_same_origin_json()
            return self.server.app.post(path, self._read_body())

        self._answer(post)

    def do_PUT(self) -> None:
        self._refuse_method()

    def do_DELETE(self) -> None:
        self._refuse_method()

    def do_PATCH(self) -> None:
        self._refuse_method()

    def do_OPTIONS(self) -> None:  # no cross-origin request is ever allowed, so no preflight is answered
        self._refuse_method()

    def do_TRACE(self) -> None:
        self._refuse_method()

    def do_CONNECT(self) -> None:
        self._refuse_method()

    def _refuse_method(self) -> None:
        self._send_json(
            HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{self.command} is not accepted here"}, {"Allow": ALLOWED_METHODS}
        )

    # ---- checks ----------------------------------------------------------------------------------------------
    def _foreign_host(self) -> bool:
        allowed = self.server.allowed_hosts
        host = self.headers.get("Host", "")
        if allowed is None or host in allowed:
            return False
        self._send_json(HTTPStatus.FORBIDDEN, {"error": f"this server answers requests for 127.0.0.1, not {host!r}"})
        return True

    def _check_same_origin_json(self) -> None:
        kind = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if kind != "application/json":
            raise ApiError(415, f"a POST must be JSON (Content-Type: application/json), not {kind or 'untyped'!r}")
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{self.headers.get('Host', '')}":
            raise ApiError(403, f"a POST from another site ({origin}) is refused")
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            raise ApiError(403, "a POST from another site is refused")

    def _read_body(self) -> bytes:
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise ApiError(411, "a POST needs a Content-Length header")
        return self.rfile.read(int(length_text))  # the connection loop has checked it and read exactly that

    # ---- replies ---------------------------------------------------------------------------------------------
    def _answer(self, make: Callable[[], dict[str, Any]]) -> None:
        try:
            payload = make()
        except ApiError as exc:
            self._send_json(exc.status, {"error": exc.message})
        except NetkitError as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Exception as exc:  # never a traceback to the client, and the server keeps running
            print(f"netkit: error: {self.command} {self.path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {type(exc).__name__}"})
        else:
            self._send_json(HTTPStatus.OK, payload)

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, allow_nan=False, separators=(",", ":"), default=_json_default).encode("utf-8")
        self._send(status, body, "application/json", headers)

    def _send_static(self, path: str) -> None:
        found = self.server.static.get(path)
        if found is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found: the page's files are /, /app.js and the like"})
            return
        self._send(HTTPStatus.OK, *found)

    def _send(self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _json_default(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


def bind(app: App, host: str, port: int, limits: Limits | None = None) -> NetkitServer:
    """A server listening on ``host:port`` (0: any free port), or a one-line error naming the address."""
    try:
        return NetkitServer((host, port), app, limits)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise NetkitError(f"port {port} on {host} is already in use; choose another with --port") from None
        raise NetkitError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve_in_background(server: NetkitServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="netkit-web", daemon=True)
    thread.start()
    return thread
