"""The HTTP side: the standard library's threading server, the page's own files, JSON in and out.

Only the files named in ``STATIC_FILES`` are served (a fixed table, so no path can reach anything else);
every ``/api/`` answer is JSON, and every refusal is a 4xx with ``{"error": "..."}``. A request that
breaks something unexpected gets a 500 with a one-line error and leaves the server running.
"""

from __future__ import annotations

import errno
import importlib.resources
import ipaddress
import json
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from netkit.errors import NetkitError

from .errors import ApiError
from .inputs import MAX_BODY_BYTES
from .routes import App

DRAIN_LIMIT_BYTES = 16 * MAX_BODY_BYTES

STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/charts.js": ("charts.js", "text/javascript; charset=utf-8"),
    "/colors.js": ("colors.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


def _static_files() -> dict[str, tuple[bytes, str]]:
    folder = importlib.resources.files(__package__ or "netkit.web") / "static"
    return {path: ((folder / name).read_bytes(), kind) for path, (name, kind) in STATIC_FILES.items()}


class NetkitServer(ThreadingHTTPServer):
    """A threading HTTP server that knows the :class:`App` it serves."""

    daemon_threads = True  # a slow client never keeps the process alive after Ctrl-C
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops the SYN of a sixth client connecting at once, which then
    # waits a whole TCP retransmission timeout (a second) before it is served.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self.static = _static_files()
        super().__init__(address, RequestHandler)

    @property
    def allowed_hosts(self) -> frozenset[str] | None:
        """The Host headers a loopback-bound server answers (None: any, when bound beyond this machine).

        A web page elsewhere can point its own domain name at 127.0.0.1 (DNS rebinding); its requests
        then carry that name in Host, and are refused.
        """
        host, port = str(self.server_address[0]), int(self.server_address[1])
        if not ipaddress.ip_address(host).is_loopback:
            return None
        return frozenset({f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"})

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"


class RequestHandler(BaseHTTPRequestHandler):
    server: NetkitServer
    protocol_version = "HTTP/1.1"
    server_version = "netkit"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the URL and errors, not a line per request."""

    def _foreign_host(self) -> bool:
        allowed = self.server.allowed_hosts
        host = self.headers.get("Host", "")
        if allowed is None or host in allowed:
            return False
        self._send_json(HTTPStatus.FORBIDDEN, {"error": f"this server answers requests for 127.0.0.1, not {host!r}"})
        return True

    def do_GET(self) -> None:
        if self._foreign_host():
            return
        parts = urlsplit(self.path)
        if not parts.path.startswith("/api/"):
            self._send_static(parts.path)
            return
        self._answer(lambda: self.server.app.get(parts.path, parse_qs(parts.query)))

    def do_POST(self) -> None:
        if self._foreign_host():
            self.close_connection = True  # its body stays unread
            return
        parts = urlsplit(self.path)
        self._answer(lambda: self.server.app.post(parts.path, self._read_body()))

    def do_PUT(self) -> None:
        self._refuse_method()

    def do_DELETE(self) -> None:
        self._refuse_method()

    def do_PATCH(self) -> None:
        self._refuse_method()

    def _refuse_method(self) -> None:
        self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{self.command} is not accepted here"})

    def _read_body(self) -> bytes:
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise ApiError(411, "a POST needs a Content-Length header")
        try:
            length = int(length_text)
        except ValueError:
            raise ApiError(400, f"Content-Length {length_text!r} is not a number") from None
        if length < 0:
            raise ApiError(400, f"Content-Length {length} is negative")
        if length > MAX_BODY_BYTES:
            self._discard(length)
            raise ApiError(413, f"the body is {length:,} bytes; at most {MAX_BODY_BYTES:,} are accepted")
        return self.rfile.read(length)

    def _discard(self, length: int) -> None:
        """Read a refused body away (never kept), so the client can read the refusal; a huge one, hang up."""
        if length > DRAIN_LIMIT_BYTES:
            self.close_connection = True  # the unread body must not be taken for the next request
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            length -= len(chunk)

    def _answer(self, make: Any) -> None:
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

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, allow_nan=False, separators=(",", ":"), default=_json_default).encode("utf-8")
        self._send(status, body, "application/json")

    def _send_static(self, path: str) -> None:
        found = self.server.static.get(path)
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            return
        self._send(HTTPStatus.OK, *found)

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def _json_default(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


def bind(app: App, host: str, port: int) -> NetkitServer:
    """A server listening on ``host:port`` (0: any free port), or a one-line error naming the address."""
    try:
        return NetkitServer((host, port), app)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise NetkitError(f"port {port} on {host} is already in use; choose another with --port") from None
        raise NetkitError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve_in_background(server: NetkitServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="netkit-web", daemon=True)
    thread.start()
    return thread
