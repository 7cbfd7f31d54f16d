"""Upstream calls through a forward proxy, as municipal networks often require.

The standard variables decide (`config.UpstreamProxies`: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
`NO_PROXY`), the ones the sign-in's calls (authlib on requests) read as well, so one setting sends
all of the portal's outbound traffic the same way. `NO_PROXY` is read as requests reads it: a
comma-separated list of host names (each also standing for its subdomains; a leading `.` or `*.`
changes nothing), IP addresses and networks (`10.0.0.0/8`), or `*` for every host; a port after an
entry (`host:8080`) is ignored, the host being reached directly on every port. Without any
proxy variable the app's client is the direct transport itself, with nothing of this in its path.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

import httpx


class ProxyRoutes(httpx.BaseTransport):
    """Each request through its scheme's proxy transport, or `direct` where there is none or NO_PROXY names the host."""

    def __init__(self, direct: httpx.BaseTransport, proxied: Mapping[str, httpx.BaseTransport], no_proxy: str) -> None:
        self.direct = direct
        self.proxied = dict(proxied)
        self.no_proxy = no_proxy

    def route(self, url: httpx.URL) -> httpx.BaseTransport:
        proxied = self.proxied.get(url.scheme)
        if proxied is None or _bypassed(url.host, self.no_proxy):
            return self.direct
        return proxied

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.route(request.url).handle_request(request)

    def close(self) -> None:
        for transport in (self.direct, *self.proxied.values()):
            transport.close()


# A few upstream hosts, asked on every call: remembered rather than matched again.
@lru_cache(maxsize=256)
def _bypassed(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY (`no_proxy`) names `host` (a name or an IP address, no port)."""
    host = host.lower().rstrip(".")
    return any(_names(entry, host) for entry in no_proxy.lower().split(","))


def _names(entry: str, host: str) -> bool:
    entry = _without_port(entry.strip())
    if entry == "*":
        return True
    entry = entry.removeprefix("*").lstrip(".").rstrip(".")
    if not entry:
        return False
    try:
        network = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return host == entry or host.endswith(f".{entry}")
    try:
        return ipaddress.ip_address(host) in network
    except ValueError:  # a host name: an address entry does not name it
        return False


def _without_port(entry: str) -> str:
    """`host:8080` and `[::1]:8080` as `host` and `::1`: the host is what is matched, on any port."""
    if entry.startswith("["):
        return entry[1:].split("]", 1)[0]
    name, colon, port = entry.rpartition(":")
    # One colon and digits after it: a port. More colons: an IPv6 address (or network) as it is.
    return name if colon and port.isdigit() and ":" not in name else entry
