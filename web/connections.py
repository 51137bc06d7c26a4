"""Every connection waits in one selector thread; only a complete request reaches a worker.

A client that connects and sends nothing, sends half its headers, or announces a body it never sends costs a
socket and a deadline here, never a worker thread: when the deadline passes it is answered 408 (or, if it sent
nothing at all, simply closed). Workers turn a complete request into the bytes of its reply and this thread
writes them, so a client that reads slowly or hangs up mid-reply holds no worker either, and its hang-up is no
error worth a log line. When every worker is busy and the queue of waiting requests is full, a request is
answered 503 at once rather than left to wait.
"""

from __future__ import annotations

import contextlib
import json
import queue
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable
from enum import Enum

import attrs

from .inputs import MAX_BODY_BYTES

Address = tuple[str, int]
Handle = Callable[[bytes, Address], tuple[bytes, bool]]  # a whole request -> (its reply, close afterwards?)


@attrs.frozen
class Limits:
    """How long a client may take, and how much the server takes on at once."""

    # Workers share one interpreter lock: beyond a few, more only take turns and stretch the slowest answers
    # (bench/README.md, "The web server").
    workers: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    queue: int = attrs.field(default=128, validator=attrs.validators.ge(1))  # waiting for a worker; one more: 503
    max_connections: int = 512  # open at once; one more is answered 503 and closed
    backlog: int = 1024  # connections the kernel holds before the loop accepts them (capped by somaxconn)
    idle_seconds: float = 20.0  # a connection with no request under way (a new one, or kept alive)
    header_seconds: float = 10.0  # from a request's first byte to the end of its headers
    body_seconds: float = 10.0  # from the end of the headers to the end of the body
    write_seconds: float = 10.0  # for the client to take its reply
    linger_seconds: float = 2.0  # after a refusal, reading what the client still sends so it can read the reply
    max_header_bytes: int = 65_536
    max_body_bytes: int = MAX_BODY_BYTES
    drain_bytes: int = 16 * MAX_BODY_BYTES  # a refused body up to this size is read away, not reset


class Refusal(Exception):
    """A request refused before it reaches a worker (bad framing, too large, too slow)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def error_reply(status: int, message: str, phrase: str = "") -> bytes:
    """A complete JSON error reply that closes the connection (from this thread, outside any handler)."""
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status} {phrase or _PHRASES.get(status, 'Error')}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
        + ("Retry-After: 1\r\n" if status == 503 else "")
        + "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


_PHRASES = {
    400: "Bad Request",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


def body_length(head: bytes, limit: int) -> int:
    """The body size a request's headers announce (0 without Content-Length), or a :class:`Refusal`."""
    lengths: set[bytes] = set()
    for line in head.split(b"\n")[1:]:
        name, colon, value = line.partition(b":")
        name = name.strip().lower()
        if colon and name == b"content-length":
            lengths.add(value.strip())
        elif colon and name == b"transfer-encoding":
            raise Refusal(411, "a body must come with a Content-Length header (no Transfer-Encoding)")
    if not lengths:
        return 0
    if len(lengths) > 1:
        raise Refusal(400, "the request has conflicting Content-Length headers")
    text = lengths.pop()
    if not text.isdigit():
        shown = text.decode("latin-1")
        reason = "is negative" if shown.startswith("-") and shown[1:].isdigit() else "is not a number"
        raise Refusal(400, f"Content-Length {shown!r} {reason}")
    length = int(text) if len(text) <= 18 else 10**18
    if length > limit:
        raise Refusal(413, f"the body is {length:,} bytes; at most {limit:,} are accepted")
    return length


class Phase(Enum):
    IDLE = "idle"  # waiting for a request to start
    HEADERS = "headers"
    BODY = "body"
    WORKING = "working"  # with a worker: no deadline, not in the selector
    WRITING = "writing"
    LINGERING = "lingering"  # reply sent, write side shut: reading away what the client still sends


class Connection:
    __slots__ = ("address", "body_end", "close_after", "deadline", "drain", "inbox", "outbox", "phase", "sock")

    def __init__(self, sock: socket.socket, address: Address) -> None:
        self.sock, self.address = sock, address
        self.inbox, self.outbox = bytearray(), bytearray()
        self.phase, self.deadline, self.body_end = Phase.IDLE, 0.0, 0
        self.close_after, self.drain = False, 0


class ConnectionLoop:
    """The selector thread (``run``) and the worker pool behind one listening socket."""

    def __init__(self, listener: socket.socket, handle: Handle, limits: Limits) -> None:
        self.listener, self.handle, self.limits = listener, handle, limits
        listener.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, None)
        self._wake_in, self._wake_out = socket.socketpair()
        for end in (self._wake_in, self._wake_out):
            end.setblocking(False)
        self.selector.register(self._wake_in, selectors.EVENT_READ, "wake")
        self.connections: dict[socket.socket, Connection] = {}
        self._jobs: queue.Queue[tuple[Connection, bytes] | None] = queue.Queue(maxsize=limits.queue)
        self._done: queue.SimpleQueue[tuple[Connection, bytes, bool]] = queue.SimpleQueue()
        self._stop, self._stopped = threading.Event(), threading.Event()
        self._stopped.set()
        self._closed = False
        self._workers = [
            threading.Thread(target=self._work, name=f"netkit-web-worker-{index}", daemon=True)
            for index in range(limits.workers)
        ]
        for worker in self._workers:
            worker.start()

    # ---- the selector thread ------------------------------------------------------------------------------
    def run(self) -> None:
        self._stopped.clear()
        try:
            while not self._stop.is_set():
                for key, events in self.selector.select(timeout=0.1):
                    if key.data is None:
                        self._accept()
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        self._guarded(self._on_ready, key.data, events)
                self._take_replies()
                self._expire(time.monotonic())
        finally:
            self._stop.clear()
            self._stopped.set()

    def stop(self) -> None:
        """Ask ``run`` to return, and wait until it has (at once if it is not running)."""
        self._stop.set()
        self._wake()
        self._stopped.wait()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._stopped.is_set():
            self.stop()
        for connection in list(self.connections.values()):
            self._close(connection)
        while True:  # let every worker see its way out, even past waiting requests
            try:
                self._jobs.get_nowait()
            except queue.Empty:
                break
        for _ in self._workers:
            self._jobs.put(None)
        self.selector.close()
        for end in (self._wake_in, self._wake_out, self.listener):
            end.close()

    def _guarded(self, step: Callable[..., None], connection: Connection, *arguments: object) -> None:
        """One connection's step; a bug there closes that connection with one line, never the loop."""
        try:
            step(connection, *arguments)
        except Exception as exc:
            print(f"netkit: error: a connection: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._close(connection)

    def _accept(self) -> None:
        for _ in range(256):  # everything waiting, so the backlog never makes a connect wait
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. out of file descriptors: try again on the next round
                return
            sock.setblocking(False)
            if len(self.connections) >= self.limits.max_connections:
                with contextlib.suppress(OSError):
                    sock.send(error_reply(503, "the server has too many open connections; try again"))
                sock.close()
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = Connection(sock, address)
            self.connections[sock] = connection
            self._idle(connection)

    def _on_ready(self, connection: Connection, events: int) -> None:
        if events & selectors.EVENT_WRITE and connection.phase is Phase.WRITING:
            self._write(connection)
        elif events & selectors.EVENT_READ:
            self._read(connection)

    def _read(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(65_536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client has gone (or finished, after a refusal)
            self._close(connection)
            return
        if connection.phase is Phase.LINGERING:
            connection.drain -= len(data)
            if connection.drain <= 0:
                self._close(connection)
            return
        connection.inbox += data
        self._advance(connection)

    def _advance(self, connection: Connection) -> None:
        """Move a connection on as far as the bytes it has sent allow."""
        now = time.monotonic()
        limits = self.limits
        if connection.phase is Phase.IDLE:
            if not connection.inbox:
                return
            connection.phase, connection.deadline = Phase.HEADERS, now + limits.header_seconds
        if connection.phase is Phase.HEADERS:
            end = connection.inbox.find(b"\r\n\r\n")
            size = end + 4 if end >= 0 else len(connection.inbox)
            if size > limits.max_header_bytes:
                self._refuse(connection, Refusal(431, f"the headers exceed {limits.max_header_bytes:,} bytes"))
                return
            if end < 0:
                return
            try:
                length = body_length(bytes(connection.inbox[:size]), limits.max_body_bytes)
            except Refusal as refusal:
                self._refuse(connection, refusal)
                return
            connection.body_end = size + length
            connection.phase, connection.deadline = Phase.BODY, now + limits.body_seconds
        if connection.phase is Phase.BODY and len(connection.inbox) >= connection.body_end:
            request = bytes(connection.inbox[: connection.body_end])
            del connection.inbox[: connection.body_end]
            connection.phase, connection.deadline = Phase.WORKING, float("inf")
            self.selector.unregister(connection.sock)
            try:
                self._jobs.put_nowait((connection, request))
            except queue.Full:
                self._reply(connection, error_reply(503, "the server is busy; try again in a moment"), close=True)

    def _refuse(self, connection: Connection, refusal: Refusal) -> None:
        self._reply(connection, error_reply(refusal.status, refusal.message), close=True)

    def _reply(self, connection: Connection, reply: bytes, close: bool) -> None:
        connection.outbox[:] = reply
        connection.close_after = close
        connection.phase, connection.deadline = Phase.WRITING, time.monotonic() + self.limits.write_seconds
        self._watch(connection, selectors.EVENT_WRITE)
        self._write(connection)  # most replies fit the socket buffer: no round through the selector

    def _write(self, connection: Connection) -> None:
        try:
            sent = connection.sock.send(connection.outbox)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # the client hung up mid-reply: its loss, not an error of the server's
            self._close(connection)
            return
        del connection.outbox[:sent]
        if connection.outbox:
            return
        if not connection.close_after:
            self._idle(connection)
            self._advance(connection)  # a request sent right behind the last one
            return
        # Shut the write side and read away what the client still sends: closing with unread bytes would
        # reset the connection, and the client could lose the reply it has not read yet.
        try:
            connection.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(connection)
            return
        connection.phase, connection.deadline = Phase.LINGERING, time.monotonic() + self.limits.linger_seconds
        connection.drain = self.limits.drain_bytes
        connection.inbox.clear()
        self._watch(connection, selectors.EVENT_READ)

    def _idle(self, connection: Connection) -> None:
        connection.phase, connection.deadline = Phase.IDLE, time.monotonic() + self.limits.idle_seconds
        self._watch(connection, selectors.EVENT_READ)

    def _watch(self, connection: Connection, events: int) -> None:
        try:
            self.selector.modify(connection.sock, events, connection)
        except KeyError:
            self.selector.register(connection.sock, events, connection)

    def _expire(self, now: float) -> None:
        for connection in [each for each in self.connections.values() if each.deadline <= now]:
            if connection.phase in (Phase.HEADERS, Phase.BODY):
                part = "headers" if connection.phase is Phase.HEADERS else "body"
                self._refuse(connection, Refusal(408, f"the request's {part} did not arrive in time"))
            else:  # idle, or a reply the client does not take, or the end of lingering
                self._close(connection)

    def _close(self, connection: Connection) -> None:
        if self.connections.pop(connection.sock, None) is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(connection.sock)
        connection.sock.close()

    def _take_replies(self) -> None:
        while True:
            try:
                connection, reply, close = self._done.get_nowait()
            except queue.Empty:
                return
            if connection.sock in self.connections:
                self._guarded(self._reply, connection, reply, close)

    def _wake(self) -> None:
        # A full buffer means a wake-up is pending already (and a closed socket, that the loop has ended).
        with contextlib.suppress(OSError):
            self._wake_out.send(b"\0")

    def _drain_wake(self) -> None:
        try:
            while self._wake_in.recv(4096):
                pass
        except OSError:
            pass

    # ---- the workers ----------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            connection, request = job
            try:
                reply, close = self.handle(request, connection.address)
            except Exception as exc:  # the handler answers its own errors; this is a bug in it
                print(f"netkit: error: {type(exc).__name__}: {exc}", file=sys.stderr)
                reply, close = error_reply(500, f"internal error: {type(exc).__name__}", "Internal Server Error"), True
            self._done.put((connection, reply, close))
            self._wake()
