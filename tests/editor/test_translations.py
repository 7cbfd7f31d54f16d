"""The editor area speaks Danish: every text it shows has a Danish translation in the catalogue."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal.config import PROJECT_ROOT

CATALOGUE = PROJECT_ROOT / "translations" / "da" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}


def editor_msgids() -> set[str]:
    found: set[str] = set()
    for folder, method in (
        (PROJECT_ROOT / "portal" / "editor", [("**.py", "python")]),
        (PROJECT_ROOT / "templates" / "editor", [("**.html", "jinja2")]),
    ):
        for _file, _line, message, _comments, _context in extract_from_dir(str(folder), method, keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_editor_text_has_a_danish_translation() -> None:
    msgids = editor_msgids()
    assert len(msgids) > 100  # the extraction itself works
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="da")
    missing = sorted(m for m in msgids if catalogue.get(m) is None or not catalogue.get(m).string)
    assert missing == []
