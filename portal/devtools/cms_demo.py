"""A library's web site (CMS) for the demo and the embedding tests: one page with the documented snippet.

`make run` serves it on port 5007 (another origin, the same site as the portal on 5000: the
recommended deployment, docs/embedding.md), and Lyngby lists it in `embed_origins`, so the
embedding can be tried by hand at http://127.0.0.1:5007/. Its query sets the snippet's attributes:
`/?slug=lyngby&view=summary&lang=en&color-primary=%23…`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import BaseWSGIServer

from portal.devtools.simulators import serve_in_thread

DEV_CMS_PORT = 5007
DEV_CMS_ORIGIN = f"http://127.0.0.1:{DEV_CMS_PORT}"
# The CMS page's own policy: strict as well (no inline script or style), the portal allowed.
_CMS_CSP = "default-src 'none'; script-src {portal}; frame-src {portal}; style-src 'none'; base-uri 'none'"


def cms_app(portal_url: str) -> Callable[..., Iterable[bytes]]:
    """`/?slug=lyngby&view=summary&lang=en&color-primary=%23…`: a CMS page with the one snippet."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        slug = query.pop("slug", "lyngby")
        page_lang = query.pop("page_lang", "da")
        attributes = "".join(
            f' data-{html.escape(name)}="{html.escape(value)}"' for name, value in sorted(query.items())
        )
        body = f"""<!DOCTYPE html>
<html lang="{html.escape(page_lang)}">
<head><meta charset="utf-8"><title>Biblioteket</title></head>
<body>
<main>
<h1>Bibliotekets side</h1>
<div id="gebyrportal" data-gebyrportal="{html.escape(portal_url)}/{html.escape(slug)}"{attributes}></div>
<script src="{html.escape(portal_url)}/static/js/embed.js" defer></script>
</main>
</body>
</html>
""".encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Security-Policy", _CMS_CSP.format(portal=portal_url)),
            ],
        )
        return [body]

    return app


def start_cms_demo(portal_url: str, host: str = "127.0.0.1", port: int = DEV_CMS_PORT) -> BaseWSGIServer:
    """Serve the CMS page, embedding the portal at `portal_url`, in a daemon thread."""
    return serve_in_thread(cms_app(portal_url), host, port, "cms-demo")
