"""A library's web site (CMS) on another origin, for the embedding tests: the documented snippet.

`libraries_with_embedding` writes a libraries file where Lyngby lets `origins` embed it, plus
`lyngby-hovedbibliotek` (a slug with Lyngby's as a prefix) allowing another site only, so a
policy leaking between libraries shows. The page itself is portal.devtools.cms_demo's `cms_app`
(`make run` serves it too). On `127.0.0.1:<other port>` the CMS is another origin but the same site
as the portal (the recommended deployment, docs/embedding.md); on `localhost:<port>` another site.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from portal.devtools.demo import DEMO_LIBRARIES_FILE
from tests.support.live import LiveServer, start_live_server

PREFIXED_SLUG = "lyngby-hovedbibliotek"
PREFIXED_ORIGIN = "https://hovedbibliotek.example.dk"


def libraries_with_embedding(folder: Path, origins: Iterable[str], source: Path = DEMO_LIBRARIES_FILE) -> Path:
    """A copy of `source` where Lyngby lists `origins` in embed_origins, plus the prefixed library."""
    text = source.read_text(encoding="utf-8")
    marker = 'slug = "lyngby"\n'
    assert text.count(marker) == 1
    listed = ", ".join(f'"{origin}"' for origin in origins)
    text = text.replace(marker, f"{marker}embed_origins = [{listed}]\n", 1)
    text += f"""
[[library]]
slug = "{PREFIXED_SLUG}"
name = "Lyngby Hovedbibliotek"
agency_id = "DK-717301"
cutoff_date = 2022-01-01
embed_origins = ["{PREFIXED_ORIGIN}"]
"""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "embedding_libraries.toml"
    path.write_text(text, encoding="utf-8")
    return path


def start_cms() -> LiveServer:
    """Bind the CMS now (its origin goes into the libraries file); set its app once the portal is up."""
    return start_live_server()


def cms_origin(server: LiveServer, host: str = "127.0.0.1") -> str:
    """The CMS's origin: on 127.0.0.1 the portal's site (another port), on `localhost` another site."""
    return f"http://{host}:{server.server.server_port}"
