"""Danish is complete: every text the portal shows has a Danish translation, and nothing stale lingers.

The source strings are English, so English needs no catalogue (gettext answers with the source
string); only the Danish one is kept, and it is kept complete.
"""

from __future__ import annotations

from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal.config import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
CATALOGUE = TRANSLATIONS / "da" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def source_msgids() -> set[str]:
    """Every translatable string of the portal's code and templates (as `make extract-messages` finds)."""
    found: set[str] = set()
    for folder, method in (
        (PROJECT_ROOT / "portal", [("**.py", "python")]),
        (PROJECT_ROOT / "templates", [("**.html", "jinja2")]),
    ):
        for _file, _line, message, _comments, _context in extract_from_dir(str(folder), method, keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else message[0])
    return found


def danish() -> dict[str, str]:
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="da")
    assert not [m.id for m in catalogue if m.id and m.fuzzy], "fuzzy entries are not shown: translate them"
    return {_msgid(m): _translation(m) for m in catalogue if m.id}


def _msgid(message: Message) -> str:
    """A plural entry by its singular, as the extraction names it."""
    return str(message.id[0] if message.pluralizable else message.id)


def _translation(message: Message) -> str:
    """The Danish text; empty unless every plural form is translated."""
    forms = message.string
    if isinstance(forms, str) or forms is None:
        return forms or ""
    return str(forms[0]) if all(forms) else ""


def test_every_text_has_a_danish_translation() -> None:
    msgids = source_msgids()
    assert len(msgids) > 200  # the extraction itself works (code and templates)
    translations = danish()
    assert sorted(m for m in msgids if not translations.get(m)) == []


def test_the_catalogue_holds_no_stale_entries() -> None:
    # Stale entries are texts nobody sees: a translator would work on them in vain.
    assert sorted(set(danish()) - source_msgids()) == []


def test_danish_is_the_only_catalogue() -> None:
    catalogues = sorted(path.relative_to(TRANSLATIONS).parts[0] for path in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"))
    assert catalogues == ["da"]


def test_each_text_is_in_the_catalogue_once() -> None:
    # The catalogue reader keeps the last of two entries silently: the other translation is dead text.
    raw = CATALOGUE.read_text(encoding="utf-8")
    entries = raw.count("\nmsgid ")  # each entry's first line, the header's included
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="da")
    assert entries - 1 == len(catalogue)
