"""The HTML → Markdown conversion of library texts, frozen for migrations 0006 and 0007.

Editors wrote HTML of a small subset (p, br, strong/b, em/i, a href, ul/ol/li), or plain text
whose blank lines made paragraphs, until migration 0006 made texts Markdown. This converter
belongs to the migrations, not the application: it must never change when the application's
code does, or a migration would do something else on the next database it runs on. A change
here is a new module, for a new migration.

Anything outside the old subset becomes its text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

__all__ = ["looks_like_html", "html_to_markdown", "markdown_to_html"]

# An HTML tag: the sign that a text was written for the old HTML renderer.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


def looks_like_html(text: str) -> bool:
    """Whether `text` holds an HTML tag (Markdown texts are refused with one since 0006)."""
    return _TAG.search(text) is not None


_BLOCKS = frozenset({"p", "ul", "ol", "li"})
_VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "wbr"})
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_PLACEHOLDER = re.compile(r"(\{[A-Za-z_][A-Za-z0-9_]*\})")
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")
_ENTITY_LIKE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_MARKDOWN_PUNCTUATION = re.compile(r"([\\*_\[\]`<>])")
# A line starting with a list or heading marker: the symbol, or the digits of "1." (whose dot is escaped).
_LINE_START_MARKER = re.compile(r"^(\s*)(?:([-+*#>])|(\d{1,9})([.)]))")


class _Node:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs = tag, attrs
        self.children: list[_Node | str] = []


class _TreeBuilder(HTMLParser):
    """A forgiving tree of the HTML: unclosed tags end with their parent, stray end tags are ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _escape_text(text: str) -> str:
    # Placeholders stay as written: `{cutoff_date}` must still be found after the conversion.
    parts = _PLACEHOLDER.split(text)
    return "".join(
        part if index % 2 else _ENTITY_LIKE.sub("\\&", _MARKDOWN_PUNCTUATION.sub(r"\\\1", part))
        for index, part in enumerate(parts)
    )


def _wrap(marker: str, inner: str) -> str:
    # `** fed **` is not bold in Markdown: the spaces go outside the markers.
    stripped = inner.strip()
    if not stripped:
        return inner
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()) :]
    return f"{lead}{marker}{stripped}{marker}{trail}"


def _inline(children: list[_Node | str]) -> str:
    out: list[str] = []
    for child in children:
        if isinstance(child, str):
            out.append(_escape_text(re.sub(r"\s+", " ", child)))
        elif child.tag == "br":
            out.append("\n")
        elif child.tag in ("strong", "b"):
            out.append(_wrap("**", _inline(child.children)))
        elif child.tag in ("em", "i"):
            out.append(_wrap("*", _inline(child.children)))
        elif child.tag == "a":
            text = _inline(child.children).strip()
            href = child.attrs.get("href", "").strip()
            if text and href.lower().startswith(_LINK_SCHEMES):
                target = href.replace("<", "%3C").replace(">", "%3E")
                if re.search(r"[\s()]", target):
                    target = f"<{target}>"
                out.append(f"[{text}]({target})")
            else:
                out.append(text)
        elif child.tag in ("script", "style"):
            continue
        else:  # anything else is its text
            out.append(_inline(child.children))
    return "".join(out)


def _paragraph(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    # A line that now starts like a list or heading was text: its marker is escaped.
    return "\n".join(_LINE_START_MARKER.sub(_escape_marker, line) for line in lines if line).strip()


def _escape_marker(match: re.Match[str]) -> str:
    space, symbol, digits, dot = match.groups()
    return f"{space}\\{symbol}" if symbol else f"{space}{digits}\\{dot}"


def _blocks(children: list[_Node | str]) -> list[str]:
    blocks: list[str] = []
    run: list[_Node | str] = []

    def flush() -> None:
        text = _paragraph(_inline(run))
        if text:
            blocks.append(text)
        run.clear()

    for child in children:
        if isinstance(child, _Node) and child.tag == "p":
            flush()
            text = _paragraph(_inline(child.children))
            if text:
                blocks.append(text)
        elif isinstance(child, _Node) and child.tag in ("ul", "ol", "li"):
            flush()
            listing = _list(child) if child.tag != "li" else _list(_Node("ul", {}), [child])
            if listing:
                blocks.append(listing)
        elif isinstance(child, _Node) and child.tag not in ("strong", "b", "em", "i", "a", "br") and _has_block(child):
            flush()
            blocks.extend(_blocks(child.children))  # e.g. a <div> around paragraphs: its content
        else:
            run.append(child)
    flush()
    return blocks


def _has_block(node: _Node) -> bool:
    return any(isinstance(child, _Node) and (child.tag in _BLOCKS or _has_block(child)) for child in node.children)


def _list(node: _Node, items: list[_Node | str] | None = None) -> str:
    lines: list[str] = []
    number = 1
    for item in node.children if items is None else items:
        if not isinstance(item, _Node) or item.tag != "li":
            continue  # text between items is only spacing in the old subset
        marker = f"{number}. " if node.tag == "ol" else "- "
        number += 1
        content = _blocks(item.children)
        indent = " " * len(marker)
        body = "\n".join(content).replace("\n", "\n" + indent) if content else ""
        lines.append((marker + body).rstrip())
    return "\n".join(lines)


def html_to_markdown(html: str) -> str:
    """A stored text of the old HTML subset as Markdown of the new one."""
    html = html.replace("\r\n", "\n")
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    if not any(_has_block(node) or node.tag in _BLOCKS for node in builder.root.children if isinstance(node, _Node)):
        # Without p/ul/ol/li the old renderer made paragraphs at blank lines.
        builder = _TreeBuilder()
        builder.feed("".join(f"<p>{chunk}</p>" for chunk in _BLANK_LINE.split(html) if chunk.strip()))
        builder.close()
    return "\n\n".join(_blocks(builder.root.children))


_MARKDOWN = MarkdownIt("zero", {"html": False, "linkify": False, "breaks": True}).enable(
    ["paragraph", "list", "link", "emphasis", "newline", "escape", "entity"]
)


def markdown_to_html(markdown: str) -> str:
    """The downgrade's way back: the Markdown rendered as the HTML the old code reads."""
    return str(_MARKDOWN.render(markdown)).strip()
