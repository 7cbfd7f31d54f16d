"""The static build: bundles, content-hashed names, a manifest, pre-compressed copies (docs/static-files.md).

`python -m portal.web.assets build` (run by `make setup`) reads static/ and writes static/build/:

- the bundles of `BUNDLES`, each one file: DKFDS's CSS or JS, then the portal's own, so a page
  loads one stylesheet and one script (the embed frame and the editor's preview have their own);
- every file a bundle's CSS refers to with `url(...)` (DKFDS's fonts, and its icons too big to be
  written into the CSS as data: URLs), copied under their path in static/ with the hash inserted;
- `manifest.json`: logical name (`site.css`) -> hashed path under static/;
- `inline.json`: what pages carry inline: the favicon as a data: URL, DKFDS's icons (viewBox, markup);
- `.br` and `.gz` beside every text file, which WhiteNoise sends by the request's Accept-Encoding.

A name carries the first 12 hex digits of the SHA-256 of its content, so a changed file gets a new
name and the old one can be cached for ever (`immutable`). No Flask here: the build runs without an app.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from whitenoise.compress import Compressor  # type: ignore[import-untyped]

from portal.config import PROJECT_ROOT

STATIC_DIR = PROJECT_ROOT / "static"
BUILD_NAME = "build"  # the folder under static/ (git-ignored)
MANIFEST_NAME = "manifest.json"
HASH_LENGTH = 12  # hex digits of the content's SHA-256 in a built name

_DKFDS_CSS = "vendor/dkfds/css/dkfds.min.css"
_DKFDS_JS = "vendor/dkfds/js/dkfds.min.js"
_SITE_CSS = (_DKFDS_CSS, "css/portal.css", "css/kodelinje.css")
_SITE_JS = (_DKFDS_JS, "js/portal.js", "js/kodelinje.js")

# Logical name -> the files in static/ it is made of, in order. kodelinje's few hundred bytes ride in
# the site bundle (no page-specific request); the embed frame's bundle adds its own CSS and JS.
BUNDLES: dict[str, tuple[str, ...]] = {
    "site.css": _SITE_CSS,
    "site.js": _SITE_JS,
    "embed-frame.css": (*_SITE_CSS, "css/embed.css"),
    "embed-frame.js": (*_SITE_JS, "js/embedded.js"),
    "editor-preview.js": ("js/editor-preview.js",),
}
# js/embed.js is deliberately in no bundle: CMS pages paste its unhashed URL (docs/embedding.md), so
# it keeps a short cache.
#
# Written into the page instead of fetched (inline.json), a request less each on a first visit: the
# favicon as a data: URL, and the symbols of DKFDS's icon sprite that templates show (`icon()`).
INLINE_FILES = ("favicon.svg",)
ICON_SPRITE = "vendor/dkfds/img/all-svg-icons.svg"
INLINE_NAME = "inline.json"

# An SVG icon the CSS refers to and smaller than this is written into the CSS as a data: URL
# (CSP allows `img-src data:`): one request less per icon a page shows, for a few bytes compressed.
INLINE_SVG_LIMIT = 2048
# Font formats a browser may use, best first: every browser the portal supports reads woff2.
_FONT_FORMATS = ("woff2", "woff")

_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")
_SRC = re.compile(r"(?<![-\w])src\s*:([^;}]*)")
_SYMBOL = re.compile(r'<symbol id="([^"]+)" viewBox="([^"]+)">(.*?)</symbol>', re.DOTALL)
_SOURCE_MAP = re.compile(r"^\s*(//[#@] sourceMappingURL=.*|/\*# sourceMappingURL=.*\*/)\s*$", re.MULTILINE)


class BuildError(Exception):
    """The static files cannot be built (a source or a file a stylesheet refers to is missing)."""


def hashed_name(path: str, content: bytes) -> str:
    """`css/x.css` + content -> `css/x.<12 hex digits>.css`."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    stem, dot, ext = path.rpartition(".")
    return f"{stem}.{digest}.{ext}" if dot else f"{path}.{digest}"


@dataclass
class _Build:
    static: Path
    out: Path
    manifest: dict[str, str] = field(default_factory=dict)  # logical -> hashed, relative to static/
    copied: dict[str, str] = field(default_factory=dict)  # source path -> hashed path, relative to static/

    def read(self, path: str) -> bytes:
        try:
            return (self.static / path).read_bytes()
        except FileNotFoundError:
            raise BuildError(f"static/{path} is missing (run `make setup`: it vendors DKFDS)") from None

    def write(self, path: str, content: bytes) -> str:
        """Write `content` under its hashed name in the build folder; the path relative to static/."""
        name = f"{BUILD_NAME}/{hashed_name(path, content)}"
        target = self.out / hashed_name(path, content)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return name

    def copy(self, path: str) -> str:
        if path not in self.copied:
            self.copied[path] = self.write(path, self.read(path))
        return self.copied[path]


def _fonts_best_first(css: str, css_path: str, static: Path) -> str:
    """Each @font-face's src: only the files that exist, woff2 first, then woff.

    DKFDS lists the regular weight's .eot first (no format hint, so a browser fetches it) and names
    .eot and .ttf files it does not ship; `local()` sources are kept as they are.
    """

    def fix_src(match: re.Match[str]) -> str:
        entries = [entry.strip() for entry in match.group(1).split(",")]
        urls: dict[str, str] = {}
        others: list[str] = []
        for entry in entries:
            found = _URL.search(entry)
            if found is None:
                others.append(entry)
                continue
            ref = found.group(2)
            ext = ref.rsplit(".", 1)[-1].lower()
            if ext in _FONT_FORMATS and (static / _resolve(css_path, ref)).is_file():
                urls.setdefault(ext, f'url({ref}) format("{ext}")')
        kept = others + [urls[ext] for ext in _FONT_FORMATS if ext in urls]
        if not kept:
            raise BuildError(f"static/{css_path}: an @font-face names no woff2 or woff file that exists")
        return "src:" + ",".join(kept)

    return _FONT_FACE.sub(lambda face: _SRC.sub(fix_src, face.group(0)), css)


def _resolve(css_path: str, ref: str) -> str:
    """A url() reference in static/<css_path> -> the path relative to static/ (no query or fragment)."""
    ref = ref.split("#", 1)[0].split("?", 1)[0]
    return posixpath.normpath(posixpath.join(posixpath.dirname(css_path), ref))


def _is_external(ref: str) -> bool:
    return ref.startswith(("data:", "http:", "https:", "//", "/", "#"))


def _svg_data_url(content: bytes) -> str:
    # Percent-encoding (not base64) compresses well; only what a CSS url("...") or a URL cannot hold
    # is escaped (the SVG's own double quotes become single ones first).
    text = " ".join(content.decode("utf-8").split()).replace('"', "'")
    return "data:image/svg+xml," + quote(text, safe=" /:=;,.'-_()!*~<>?")


def _icons(build: _Build) -> dict[str, list[str]]:
    """DKFDS's sprite as {symbol id: [viewBox, inner markup]} (a vendored file: trusted markup)."""
    icons = {name: [view_box, body] for name, view_box, body in _SYMBOL.findall(build.read(ICON_SPRITE).decode())}
    if not icons:
        raise BuildError(f"static/{ICON_SPRITE}: no <symbol id=… viewBox=…> found")
    return icons


def _rewrite_css(build: _Build, css_path: str, css: str, bundle_dir: str) -> str:
    """Point every url() of static/<css_path> at its hashed copy, relative to the bundle's folder."""
    css = _fonts_best_first(css, css_path, build.static)

    def rewrite(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if _is_external(ref):
            return match.group(0)
        fragment = "#" + ref.split("#", 1)[1] if "#" in ref else ""
        path = _resolve(css_path, ref)
        if not (build.static / path).is_file():
            raise BuildError(f"static/{css_path} refers to {ref}, and static/{path} does not exist")
        content = build.read(path)
        if path.endswith(".svg") and len(content) < INLINE_SVG_LIMIT and not fragment:
            return f'url("{_svg_data_url(content)}")'
        hashed = build.copy(path)
        return f"url({posixpath.relpath(hashed, bundle_dir)}{fragment})"

    return _URL.sub(rewrite, css)


def _bundle(build: _Build, name: str, sources: tuple[str, ...]) -> None:
    parts: list[str] = []
    for source in sources:
        text = _SOURCE_MAP.sub("", build.read(source).decode("utf-8"))  # the maps are not vendored
        if name.endswith(".css"):
            text = _rewrite_css(build, source, text, BUILD_NAME)
        parts.append(f"/* {source} */\n{text.strip()}\n")
    # `;` between scripts: a file ending without one must not run into the next.
    joiner = "" if name.endswith(".css") else ";\n"
    build.manifest[name] = build.write(name, joiner.join(parts).encode("utf-8"))


def build(static: Path = STATIC_DIR) -> dict[str, str]:
    """Build static/build/ afresh from static/; returns the manifest.

    Written into a new folder that then replaces the old one, so a running portal never sees half a
    build and files of an earlier build do not pile up.
    """
    with tempfile.TemporaryDirectory(dir=static, prefix=".build-") as tmp:
        out = Path(tmp) / BUILD_NAME
        out.mkdir()
        work = _Build(static=static, out=out)
        for name, sources in BUNDLES.items():
            _bundle(work, name, sources)
        inline = {
            "data_urls": {path: _svg_data_url(work.read(path)) for path in INLINE_FILES},
            "icons": _icons(work),
        }
        (out / INLINE_NAME).write_text(json.dumps(inline, sort_keys=True))
        compressor = Compressor(quiet=True)
        for file in sorted(p for p in out.rglob("*") if p.is_file()):
            if compressor.should_compress(file.name):
                compressor.compress(str(file))
        (out / MANIFEST_NAME).write_text(json.dumps(work.manifest, indent=2, sort_keys=True) + "\n")
        target = static / BUILD_NAME
        old = Path(tmp) / "old"
        if target.exists():
            target.rename(old)
        out.rename(target)
    return work.manifest


@dataclass(frozen=True)
class Built:
    """What a running portal needs of the last build."""

    manifest: dict[str, str]  # logical name -> hashed path under static/
    data_urls: dict[str, str]  # e.g. favicon.svg -> data:image/svg+xml,…
    icons: dict[str, tuple[str, str]]  # DKFDS icon name -> (viewBox, inner SVG markup)


def load_build(static: Path = STATIC_DIR) -> Built:
    """The last build's manifest and inline parts; BuildError naming the fix when there is none."""
    folder = static / BUILD_NAME
    try:
        # The manifest is written after inline.json: with it, the build is complete.
        manifest: dict[str, str] = json.loads((folder / MANIFEST_NAME).read_text())
        inline = json.loads((folder / INLINE_NAME).read_text())
    except FileNotFoundError:
        raise BuildError(
            f"{folder / MANIFEST_NAME} is missing: the static files are not built. Run `make setup` "
            "(or `.venv/bin/python -m portal.web.assets build`)"
        ) from None
    icons = {name: (view_box, body) for name, (view_box, body) in inline["icons"].items()}
    return Built(manifest=manifest, data_urls=inline["data_urls"], icons=icons)


def main(argv: list[str]) -> int:
    if argv != ["build"]:
        print("usage: python -m portal.web.assets build", file=sys.stderr)
        return 2
    try:
        manifest = build()
    except BuildError as exc:
        print(f"gebyrportal: static build failed: {exc}", file=sys.stderr)
        return 1
    print(f"static/{BUILD_NAME}: {len(manifest)} assets, {MANIFEST_NAME} written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
