"""Upstream calls through a forward proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY).

Real HTTP: the FBS simulator behind a forward proxy on loopback (`tests.support.forward_proxy`),
reached by the app's own client (`create_http_client`), so what is tested is what a deployment in a
network with an egress proxy runs.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from portal.config import ConfigError, UpstreamProxies
from portal.providers.errors import UpstreamError, UpstreamTimeout
from portal.providers.http import create_http_client
from portal.providers.proxies import _bypassed
from tests.providers.conftest import MakeFbs, provider_settings
from tests.support.forward_proxy import ProxyState, forward_proxy
from tests.support.redis_server import free_port
from tests.support.settings import test_settings

PHASE_TIMEOUT = 20.0  # far above the deadline below: only the deadline can end the call early


@pytest.fixture
def proxy() -> Iterator[tuple[str, ProxyState]]:
    with forward_proxy() as running:
        yield running


@pytest.fixture
def clients() -> Iterator[list[httpx.Client]]:
    made: list[httpx.Client] = []
    yield made
    for client in made:
        client.close()


@pytest.fixture
def client_for(sim_url: str, clients: list[httpx.Client]) -> Callable[..., httpx.Client]:
    """The app's kind of client, with these (proxy) variables set."""

    def make(**env: str) -> httpx.Client:
        clients.append(create_http_client(provider_settings(sim_url, PORTAL_HTTP_TIMEOUT=str(PHASE_TIMEOUT), **env)))
        return clients[-1]

    return make


# -- the settings --------------------------------------------------------------------------------


def test_no_variable_means_direct() -> None:
    assert test_settings().upstream_proxies == UpstreamProxies()


@pytest.mark.parametrize(
    ("env", "http", "https"),
    [
        ({"HTTPS_PROXY": "http://p:3128"}, None, "http://p:3128"),
        ({"HTTP_PROXY": "http://p:3128"}, "http://p:3128", None),
        ({"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}, None, "http://lower:1"),
        ({"ALL_PROXY": "http://all:3128"}, "http://all:3128", "http://all:3128"),
        ({"ALL_PROXY": "http://all:1", "HTTPS_PROXY": "https://tls:2"}, "http://all:1", "https://tls:2"),
        ({"HTTP_PROXY": "proxy.kommune.dk:3128"}, "http://proxy.kommune.dk:3128", None),
    ],
)
def test_the_standard_variables_are_read(env: dict[str, str], http: str | None, https: str | None) -> None:
    proxies = test_settings(**env).upstream_proxies
    assert (proxies.http, proxies.https) == (http, https)


def test_no_proxy_is_read() -> None:
    assert test_settings(NO_PROXY="localhost, .kommune.dk").upstream_proxies.no_proxy == "localhost, .kommune.dk"
    assert test_settings(no_proxy="a", NO_PROXY="b").upstream_proxies.no_proxy == "a"


@pytest.mark.parametrize(
    "value", ["socks5://user:s3cret@p:1080", "ftp://user:s3cret@p", "http://user:s3cret@:3128", "http://p:99999"]
)
def test_a_bad_proxy_stops_start_up_naming_it_never_its_password(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        test_settings(HTTPS_PROXY=value)
    assert str(refused.value).startswith("HTTPS_PROXY: ")
    assert "s3cret" not in str(refused.value)


def test_the_settings_never_show_the_proxy_password() -> None:
    settings = test_settings(HTTPS_PROXY="http://portal:s3cret@proxy:3128")
    assert "s3cret" not in repr(settings) and "s3cret" not in repr(settings.upstream_proxies)


# -- NO_PROXY --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "no_proxy", "direct"),
    [
        ("fbs.dk", "fbs.dk", True),
        ("api.fbs.dk", "fbs.dk", True),
        ("api.fbs.dk", ".fbs.dk", True),
        ("api.fbs.dk", "*.fbs.dk", True),
        ("FBS.dk", "fbs.DK", True),
        ("notfbs.dk", "fbs.dk", False),
        ("fbs.dk.evil.example", "fbs.dk", False),
        ("fbs.dk", "", False),
        ("fbs.dk", " , ", False),
        ("fbs.dk", "other.dk, fbs.dk ", True),
        ("anything.example", "*", True),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("11.0.0.1", "10.0.0.0/8", False),
        ("127.0.0.1", "127.0.0.1", True),
        ("localhost", "127.0.0.1", False),
        ("::1", "::1", True),
        ("fbs.dk", "10.0.0.0/8", False),
        ("fbs.dk", "fbs.dk:443", True),
        ("10.1.2.3", "10.1.2.3:8080", True),
        ("::1", "[::1]:8080", True),
        ("fe80::1", "fe80::/10", True),
        ("fbs.dk", "fbs.dk:http", False),
    ],
)
def test_no_proxy_names_hosts_domains_and_networks(host: str, no_proxy: str, direct: bool) -> None:
    assert _bypassed(host, no_proxy) is direct


# -- real calls through the proxy ----------------------------------------------------------------


def test_calls_go_through_the_proxy(
    make_fbs: MakeFbs, client_for: Callable[..., httpx.Client], proxy: tuple[str, ProxyState], sim_url: str
) -> None:
    proxy_url, state = proxy
    fbs = make_fbs(client=client_for(HTTP_PROXY=proxy_url))
    assert fbs.get_patron(1001).name == "Anne Andersen"
    assert fbs.get_fees(1001)
    assert [seen.method for seen in state.seen] == ["POST", "GET", "GET"]  # login, patron, fees
    assert all(seen.url.startswith(f"{sim_url}/external/") for seen in state.seen)


@pytest.mark.parametrize(
    "env",
    [
        {"HTTP_PROXY": "{proxy}", "NO_PROXY": "fbs.example.dk,127.0.0.1"},  # NO_PROXY names the host
        {"HTTPS_PROXY": "{proxy}"},  # plain HTTP, and only HTTPS has a proxy
    ],
    ids=["no-proxy-host", "only-https-proxied"],
)
def test_calls_no_proxy_covers_are_made_directly(
    make_fbs: MakeFbs, client_for: Callable[..., httpx.Client], proxy: tuple[str, ProxyState], env: dict[str, str]
) -> None:
    proxy_url, state = proxy
    fbs = make_fbs(client=client_for(**{name: value.format(proxy=proxy_url) for name, value in env.items()}))
    assert fbs.get_patron(1001).name == "Anne Andersen"
    assert state.seen == []


def test_the_proxy_is_given_the_credentials_of_its_url(
    make_fbs: MakeFbs, client_for: Callable[..., httpx.Client], proxy: tuple[str, ProxyState]
) -> None:
    proxy_url, state = proxy
    with_login = proxy_url.replace("http://", "http://portal:p%40ss@")
    fbs = make_fbs(client=client_for(HTTP_PROXY=with_login))
    fbs.get_patron(1001)
    expected = "Basic " + base64.b64encode(b"portal:p@ss").decode()
    assert state.seen and {seen.proxy_authorization for seen in state.seen} == {expected}


def test_https_asks_the_proxy_for_a_tunnel(
    make_fbs: MakeFbs, client_for: Callable[..., httpx.Client], proxy: tuple[str, ProxyState]
) -> None:
    proxy_url, state = proxy
    fbs = make_fbs(client=client_for(HTTPS_PROXY=proxy_url), base_url="https://fbs.example.dk")
    with pytest.raises(UpstreamError):
        fbs.get_patron(1001)  # this proxy refuses every tunnel
    assert [(seen.method, seen.url) for seen in state.seen] == [("CONNECT", "fbs.example.dk:443")]


def test_a_stalled_proxy_ends_at_the_deadline(
    make_fbs: MakeFbs, client_for: Callable[..., httpx.Client], proxy: tuple[str, ProxyState]
) -> None:
    proxy_url, state = proxy
    state.stalled.set()
    fbs = make_fbs(client=client_for(HTTP_PROXY=proxy_url, PORTAL_UPSTREAM_DEADLINE="0.5"))
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        fbs.get_patron(1001)
    assert time.monotonic() - started < PHASE_TIMEOUT / 2
    assert state.seen  # it did reach the proxy


def test_a_proxy_that_is_down_is_an_upstream_error(make_fbs: MakeFbs, client_for: Callable[..., httpx.Client]) -> None:
    fbs = make_fbs(client=client_for(HTTP_PROXY=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(UpstreamError) as failed:
        fbs.get_patron(1001)
    assert failed.value.provider == "fbs"
