"""A forward HTTP proxy on loopback for tests: what a municipal network puts in front of the internet.

It forwards absolute-form requests (`GET http://host:port/path HTTP/1.1`) and records each one
(method, URL, the Proxy-Authorization it was given). A CONNECT (HTTPS) is recorded and refused
with 502: the simulators speak plain HTTP, so a test sees that HTTPS asked for the tunnel. With
`stalled` set it accepts requests and never answers, as a proxy in trouble does.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authorization", "proxy-connection", "transfer-encoding"})


@dataclass(frozen=True)
class Forwarded:
    method: str
    url: str
    proxy_authorization: str | None


@dataclass
class ProxyState:
    seen: list[Forwarded] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(state: ProxyState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _record(self) -> None:
            state.seen.append(Forwarded(self.command, self.path, self.headers.get("Proxy-Authorization")))

        def do_CONNECT(self) -> None:
            self._record()
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _forward(self) -> None:
            self._record()
            if state.stalled.is_set():
                state.release.wait(60)
                return
            target = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=30)
            try:
                path = target.path + (f"?{target.query}" if target.query else "")
                upstream.request(self.command, path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                content = answer.read()
            finally:
                upstream.close()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    return Handler


@contextmanager
def forward_proxy() -> Iterator[tuple[str, ProxyState]]:
    """(the proxy's URL, its state), serving until the block ends."""
    state = ProxyState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="forward-proxy", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
