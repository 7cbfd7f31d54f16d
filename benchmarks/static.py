"""The static-files row of `make bench`: what a citizen's browser fetches besides the page, from the gunicorn portal.

- Bytes: the page's stylesheets and scripts (found in its HTML, each checked against the build's
  `static/build/manifest.json`) fetched as sent, not decoded, with `Accept-Encoding: br` and with `gzip`.
- Requests: the page and every file it names, plus the fonts its stylesheet makes the browser load —
  which fonts depends on the CSS a page uses, so headless Chromium (Debian's, as the browser tests use)
  loads the page through a counting proxy in front of gunicorn, and the requests reaching the portal are
  counted: a first visit with an empty cache, then another page of the site, for which files sent
  `immutable` must come from the browser's cache alone. Without Chromium the counts are left out (the
  row says so).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from tests.support.live import start_live_server

MANIFEST = Path(__file__).resolve().parent.parent / "static" / "build" / "manifest.json"
_ASSETS = re.compile(r'<link rel="stylesheet" href="([^"]+)"|<script src="([^"]+)"')
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
_CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]


@dataclass(frozen=True)
class StaticResult:
    files: tuple[str, ...]  # the page's CSS and JS, as named in its HTML
    brotli_bytes: int
    gzip_bytes: int
    first_visit: int | None  # requests; None without Chromium
    repeat_visit: int | None
    immutable: bool  # every file named by the page is sent `immutable`


def page_assets(html: str) -> list[str]:
    return [css or js for css, js in _ASSETS.findall(html)]


def built_paths(manifest: Path = MANIFEST) -> set[str]:
    """URL paths of the built bundles (`/static/build/site.<hash>.css`, ...)."""
    return {f"/static/{path}" for path in json.loads(manifest.read_text()).values()}


def _sent_bytes(client: httpx.Client, url: str, encoding: str) -> tuple[int, httpx.Response]:
    with client.stream("GET", url, headers={"Accept-Encoding": encoding}) as response:
        body = b"".join(response.iter_raw())
    if response.status_code != 200 or response.headers.get("Content-Encoding") != encoding:
        raise SystemExit(f"{url} with Accept-Encoding {encoding}: {response.status_code}, not {encoding}")
    return len(body), response


def measure_static(page_url: str, cookies: dict[str, str]) -> StaticResult:
    """Measure the overview at `page_url` as the signed-in citizen whose cookies are given."""
    with httpx.Client(timeout=30, trust_env=False, cookies=cookies) as client:
        html = client.get(page_url).text
        files = page_assets(html)
        unknown = [f for f in files if urlsplit(f).path not in built_paths()]
        if not files or unknown:
            raise SystemExit(f"the page's CSS/JS {unknown or files} are not the build's (static/build/manifest.json)")
        sizes = {"br": 0, "gzip": 0}
        immutable = True
        for file in files:
            for encoding in sizes:
                size, response = _sent_bytes(client, urljoin(page_url, file), encoding)
                sizes[encoding] += size
                immutable &= "immutable" in response.headers.get("Cache-Control", "")
    first, repeat = _browser_requests(page_url, cookies)
    return StaticResult(tuple(files), sizes["br"], sizes["gzip"], first, repeat, immutable)


def counting_proxy(target: str, seen: list[str]) -> Callable[..., Any]:
    """A WSGI app passing each GET to `target` as it is (encoded body, headers) and noting its path in `seen`.

    Counted here, in front of gunicorn, because only a request that reaches the server counts: the
    browser's own events also report the answers it took from its cache.
    """
    client = httpx.Client(base_url=target, trust_env=False, timeout=30)

    def proxy(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, query = environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", "")
        seen.append(path)
        headers = {
            name[5:].replace("_", "-"): value
            for name, value in environ.items()
            if name.startswith("HTTP_") and name not in ("HTTP_HOST", "HTTP_CONNECTION")
        }
        request = client.build_request(environ["REQUEST_METHOD"], f"{path}?{query}" if query else path, headers=headers)
        response = client.send(request, stream=True)
        try:
            body = b"".join(response.iter_raw())
        finally:
            response.close()
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP_BY_HOP]
        start_response(f"{response.status_code} {response.reason_phrase}", [*kept, ("Content-Length", str(len(body)))])
        return [body]

    return proxy


def _browser_requests(page_url: str, cookies: dict[str, str]) -> tuple[int | None, int | None]:
    """Requests reaching the portal when Chromium opens the page with an empty cache, then another page."""
    executable = shutil.which("chromium")
    if executable is None:
        return None, None
    from playwright.sync_api import sync_playwright

    parts = urlsplit(page_url)
    seen: list[str] = []
    proxy = start_live_server(counting_proxy(f"{parts.scheme}://{parts.netloc}", seen))
    # Cookies are not bound to a port: the session cookie goes to the proxy as it would to the portal.
    proxied = urlunsplit(parts._replace(netloc=urlsplit(proxy.url).netloc))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=_CHROMIUM_ARGS)
            try:
                context = browser.new_context()
                context.add_cookies([{"name": k, "value": v, "url": proxy.url} for k, v in cookies.items()])
                page = context.new_page()
                page.goto(proxied, wait_until="networkidle")
                first = len(seen)
                seen.clear()
                # Another page of the site (the same page in English): only the page itself may be asked for.
                page.goto(f"{proxied}?lang=en", wait_until="networkidle")
                repeat = len(seen)
            finally:
                browser.close()
    finally:
        proxy.stop()
    return first, repeat
