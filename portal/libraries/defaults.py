"""The text keys of a library's page and their default wording (Danish and English).

Adapted from Lyngby-Taarbæk Bibliotekerne's payment page. That page promises card payment "direkte her
på siden"; a default may promise it only where the library takes card payment here, so the texts that
name the ways to pay come in two wordings (`CARD_PAYMENT_TEXTS` replaces them where card payment is
offered; `default_text(..., card_payment=True)`). The Mit Betalingsoverblik way stands in both, and
the kodelinje way wherever the library has a code line (`default_text(..., code_line=False)` leaves it
out). Links to the library's own pages ("Læs mere", its fee rates) are added only where the library
set their URLs (`LINK_TEXTS`), so a default never names another library's website. A library's own
wording is never changed. Texts are Markdown
(portal.libraries.texts); `{cutoff_date}` is replaced by the library's current cut-off date,
formatted for the reader's language, wherever the page shows a text. The seed
said NemID; today it is MitID.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

LANGUAGES: tuple[str, ...] = ("da", "en")

INTRO = "intro"
PAYABLE_HERE_TITLE = "payable_here_title"
PAYABLE_HERE_TEXT = "payable_here_text"
HANDED_OVER_TITLE = "handed_over_title"
HANDED_OVER_TEXT = "handed_over_text"
PAYMENT_OVERVIEW_BUTTON = "payment_overview_button"
KODELINJE_INSTRUCTION = "kodelinje_instruction"
DELAY_NOTICE = "delay_notice"
EXTRA_INFO = "extra_info"

TEXT_KEYS: tuple[str, ...] = (
    INTRO,
    PAYABLE_HERE_TITLE,
    PAYABLE_HERE_TEXT,
    HANDED_OVER_TITLE,
    HANDED_OVER_TEXT,
    PAYMENT_OVERVIEW_BUTTON,
    KODELINJE_INSTRUCTION,
    DELAY_NOTICE,
    EXTRA_INFO,
)

_DA: dict[str, str] = {
    INTRO: (
        "Gebyrer og erstatninger er flyttet til et nyt system: nye mellemværender betales "
        "i Mit Betalingsoverblik.\n\n"
        "Her på siden kan du se, om du har mellemværender med biblioteket, og hvor de ligger:\n\n"
        "- Mellemværender oprettet før {cutoff_date} ligger i bibliotekssystemet. Du kan betale dem "
        "med MobilePay på bibliotekets udlånsautomater eller i (net)banken med indbetalingskort – "
        "kodelinjen står nedenfor.\n"
        "- Mellemværender oprettet fra og med {cutoff_date} er overført til kommunens økonomisystem. "
        "Du betaler dem i Mit Betalingsoverblik med betalingskort, MobilePay eller indbetalingskort i "
        "(net)banken – kodelinjen finder du i Mit Betalingsoverblik.\n"
        "\n"
        "Se i oversigten herunder, om dine mellemværender ligger i bibliotekssystemet, eller om de er "
        "overført til Mit Betalingsoverblik."
    ),
    PAYABLE_HERE_TITLE: "Betales her",
    PAYABLE_HERE_TEXT: (
        "Mellemværender oprettet før {cutoff_date} ligger stadig i bibliotekssystemet. De kan betales med "
        "MobilePay på bibliotekets udlånsautomater eller i (net)banken med indbetalingskort og kodelinjen "
        "nedenfor."
    ),
    HANDED_OVER_TITLE: "Betales i Mit Betalingsoverblik",
    HANDED_OVER_TEXT: (
        "Mellemværender oprettet fra og med {cutoff_date} er overført til kommunens opkrævning og "
        "skal betales i Mit Betalingsoverblik."
    ),
    PAYMENT_OVERVIEW_BUTTON: "Gå til Mit Betalingsoverblik",
    KODELINJE_INSTRUCTION: (
        "Når du betaler med kodelinjen, skal du skrive dit lånernummer eller dit fulde navn i "
        "beskeden til modtageren. Ellers kan biblioteket ikke se, hvem betalingen kommer fra."
    ),
    DELAY_NOTICE: (
        "Når du betaler gebyrer og erstatninger i Mit Betalingsoverblik, kan der "
        "gå op til 72 timer, før listen her på siden er opdateret. I Mit Betalingsoverblik kan du altid "
        "se en opdateret status på dine betalinger."
    ),
    EXTRA_INFO: (
        "Børn og borgere uden MitID: For mellemværender for børn og andre borgere uden MitID sendes "
        "der automatisk et indbetalingskort med posten, som kan betales i (net)banken.\n\n"
        "Vær opmærksom på betalingsfristerne i Mit Betalingsoverblik. Hvis fristerne ikke "
        "overholdes, kan kommunens opkrævning lægge rykkergebyrer oven i."
    ),
}

_EN: dict[str, str] = {
    INTRO: (
        "Library fees and replacement charges have moved to a new system: new debts are paid "
        "in Mit Betalingsoverblik.\n\n"
        "This page shows whether you owe the library anything, and where each debt is held:\n\n"
        "- Debts created before {cutoff_date} are held in the library system. You can pay them with "
        "MobilePay at the library's self-service machines or in your (online) bank with a payment slip – "
        "the code line is shown below.\n"
        "- Debts created on or after {cutoff_date} have been transferred to the municipality's "
        "finance system. You pay them in Mit Betalingsoverblik by payment card, MobilePay or a payment "
        "slip in your (online) bank – you will find the code line in Mit Betalingsoverblik.\n"
        "\n"
        "See in the overview below whether your debts are held in the library system or have been "
        "transferred to Mit Betalingsoverblik."
    ),
    PAYABLE_HERE_TITLE: "Pay here",
    PAYABLE_HERE_TEXT: (
        "Debts created before {cutoff_date} are still held in the library system. They can be paid with "
        "MobilePay at the library's self-service machines or in your (online) bank with a payment slip and "
        "the code line below."
    ),
    HANDED_OVER_TITLE: "Pay in Mit Betalingsoverblik",
    HANDED_OVER_TEXT: (
        "Debts created on or after {cutoff_date} have been transferred to the municipality's "
        "collection and must be paid in Mit Betalingsoverblik."
    ),
    PAYMENT_OVERVIEW_BUTTON: "Go to Mit Betalingsoverblik",
    KODELINJE_INSTRUCTION: (
        "When you pay with the code line, write your borrower number or your full name in the "
        "message to the recipient. Otherwise the library cannot tell who the payment is from."
    ),
    DELAY_NOTICE: (
        "When you pay fees or replacement charges in Mit Betalingsoverblik, it can "
        "take up to 72 hours before the list on this page is updated. Mit Betalingsoverblik always "
        "shows the current status of your payments."
    ),
    EXTRA_INFO: (
        "Children and citizens without MitID: for debts of children and other citizens without "
        "MitID, a payment slip is sent automatically by post and can be paid in your (online) "
        "bank.\n\n"
        "Please keep to the payment deadlines in Mit Betalingsoverblik. If a deadline is missed, "
        "the municipality's collection may add reminder fees."
    ),
}

# Where the library takes card payment on the page (Seed 000: "kan betales … med betalingskort
# direkte her på siden"): the texts naming the ways to pay say so. Only these keys differ.
_DA_CARD: dict[str, str] = {
    INTRO: _DA[INTRO].replace(
        "Du kan betale dem med MobilePay",
        "De kan betales med betalingskort direkte her på siden, med MobilePay",
    ),
    PAYABLE_HERE_TEXT: _DA[PAYABLE_HERE_TEXT].replace(
        "De kan betales med MobilePay", "De kan betales med betalingskort direkte her på siden, med MobilePay"
    ),
}

_EN_CARD: dict[str, str] = {
    INTRO: _EN[INTRO].replace(
        "You can pay them with MobilePay",
        "They can be paid by payment card right here on this page, with MobilePay",
    ),
    PAYABLE_HERE_TEXT: _EN[PAYABLE_HERE_TEXT].replace(
        "They can be paid with MobilePay", "They can be paid by payment card right here on this page, with MobilePay"
    ),
}
# A replace() that found nothing would silently leave the card-less wording in place.
assert all(_DA_CARD[key] != _DA[key] and _EN_CARD[key] != _EN[key] for key in (INTRO, PAYABLE_HERE_TEXT))

# Where the library has no code line, the bank way to pay its FBS debts does not exist (a payment slip
# needs the code line): the texts naming the ways to pay leave it out, so no default points citizens to
# a code line "below" that is not there. In order: the bank clause goes, then the card wording's list of
# three becomes a list of two.
_WITHOUT_CODE_LINE: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "da": (
            (" eller i (net)banken med indbetalingskort – kodelinjen står nedenfor", ""),
            (" eller i (net)banken med indbetalingskort og kodelinjen nedenfor", ""),
            ("direkte her på siden, med MobilePay", "direkte her på siden eller med MobilePay"),
        ),
        "en": (
            (" or in your (online) bank with a payment slip – the code line is shown below", ""),
            (" or in your (online) bank with a payment slip and the code line below", ""),
            ("right here on this page, with MobilePay", "right here on this page or with MobilePay"),
        ),
    }
)
# The keys whose wording names the bank way for the debts still in the library system.
CODE_LINE_KEYS: frozenset[str] = frozenset({INTRO, PAYABLE_HERE_TEXT})


def _without_code_line(text: str, language: str) -> str:
    for old, new in _WITHOUT_CODE_LINE[language]:
        text = text.replace(old, new)
    return text


# Each replacement above finds its text in the wordings it is for: none silently leaves the bank way in.
assert all(
    _without_code_line(texts[key], language) != texts[key]
    for language, wordings in (("da", (_DA, _DA_CARD)), ("en", (_EN, _EN_CARD)))
    for texts in wordings
    for key in CODE_LINE_KEYS
)

# The links the defaults may carry (seed 000's "Læs mere" article; the fee rates page dpl-react
# links to): the library's URL field -> (the text that ends with it, the link's own words).
# The link's words say where it goes, so it reads well out of context (screen readers' link lists).
LINK_NAMES: tuple[str, ...] = ("read_more_url", "fee_rates_url")
LINK_TEXTS: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "da": MappingProxyType(
            {
                "read_more_url": (
                    INTRO,
                    "Læs mere om overførslen af mellemværender fra bibliotekssystemet til Mit Betalingsoverblik",
                ),
                "fee_rates_url": (EXTRA_INFO, "Se bibliotekets takster for gebyrer og erstatninger"),
            }
        ),
        "en": MappingProxyType(
            {
                "read_more_url": (
                    INTRO,
                    "Read more about the transfer of debts from the library system to Mit Betalingsoverblik",
                ),
                "fee_rates_url": (EXTRA_INFO, "See the library's rates for fees and replacement charges"),
            }
        ),
    }
)

# Read-only so no caller can change the defaults of every library by accident.
DEFAULT_TEXTS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"da": MappingProxyType(_DA), "en": MappingProxyType(_EN)}
)
# The wordings that replace DEFAULT_TEXTS' where the library offers card payment on the page.
CARD_PAYMENT_TEXTS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"da": MappingProxyType(_DA_CARD), "en": MappingProxyType(_EN_CARD)}
)


def default_text(
    key: str,
    language: str,
    *,
    card_payment: bool = False,
    code_line: bool = True,
    links: Mapping[str, str | None] | None = None,
) -> str:
    """The default wording of `key` in `language`; KeyError/ValueError for unknown ones.

    `card_payment`: the library takes card payment on the page (`PaymentRuntime.offers_card_payment`);
    only then may a default offer it. `code_line`: the library has a kodelinje; without one no
    default names the bank way to pay what is still in the library system. `links`: the library's own `LINK_NAMES` URLs
    (`Library.text_links()`); a default names a link only when its URL is set, so no library's
    page points to another library's website or to an empty link.
    """
    if language not in DEFAULT_TEXTS:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    if key not in TEXT_KEYS:
        raise KeyError(f"unknown text key {key!r}")
    if card_payment and key in CARD_PAYMENT_TEXTS[language]:
        text = CARD_PAYMENT_TEXTS[language][key]
    else:
        text = DEFAULT_TEXTS[language][key]
    if not code_line and key in CODE_LINE_KEYS:
        text = _without_code_line(text, language)
    for link, (link_key, sentence) in LINK_TEXTS[language].items():
        url = (links or {}).get(link)
        if link_key == key and url:
            text += f"\n\n[{sentence}](<{_href(url)}>)"
    return text


def _href(url: str) -> str:
    """`url` safe as a Markdown link destination `<…>` in a text that is later filled in.

    The characters that would end the destination or the line are percent-encoded, and braces
    too, so a URL can never read as a `{placeholder}` of the text.
    """
    return url.translate(_HREF_ESCAPES)


_HREF_ESCAPES = {ord(char): f"%{ord(char):02X}" for char in "<>{} \\\n\r"}
