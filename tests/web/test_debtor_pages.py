"""The page and JSON with the debtor system: its status shown, and FBS's figures when it fails alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from portal.kvstore import store
from tests.support.login import http_login
from tests.support.stack import Stack


@pytest.fixture(autouse=True)
def fresh(stack: Stack) -> Iterator[None]:
    """No cached answers (and no sessions) from other tests: each test reaches both upstreams."""
    with stack.app.app_context():
        store.clear()
    yield
    stack.debtor_state.reset_faults()
    stack.fbs_state.reset_faults()


def anne(client: httpx.Client, stack: Stack, slug: str = "lyngby", lang: str = "da") -> httpx.Response:
    http_login(client, stack.url, "demo-anne", slug=slug)
    return client.get(f"{stack.url}/{slug}/?lang={lang}")


def test_the_page_tells_the_whole_truth(client: httpx.Client, stack: Stack) -> None:
    page = anne(client, stack)
    assert page.status_code == 200
    html = page.text
    assert "Status i Mit Betalingsoverblik" in html
    assert "Rykker sendt" in html
    assert "Rykkergebyr" in html and "Lagt på af kommunen til: Gebyr (for sent) fra 15.06.2021" in html
    assert "Betalt – afventer registrering (op til 72 timer)" in html
    assert "Endnu ikke synlig i Mit Betalingsoverblik (normalt næste dag)" in html
    assert "(ikke med i totalen)" in html
    assert "Betalt for nylig" in html
    assert 'data-total="all">469,75' in html and 'data-total="handed-over">155,00' in html
    assert "Status fra Mit Betalingsoverblik kunne ikke hentes" not in html
    assert "I alt skylder du" in html and "data-total-incomplete" not in html


def test_in_english(client: httpx.Client, stack: Stack) -> None:
    html = anne(client, stack, lang="en").text
    for text in (
        "Paid – awaiting registration (up to 72 hours)",
        "Not yet visible in Mit Betalingsoverblik (usually the next day)",
        "Added by the municipality to: Gebyr (for sent) of 15/06/2021",
        "Recently paid",
        "Reminder sent",
        "(not in the total)",
    ):
        assert text in html


@pytest.mark.parametrize("fault", ["status", "invalid-json", "float-amount", "other-agency"])
def test_debtor_failing_alone_leaves_fbs_figures_and_a_note(client: httpx.Client, stack: Stack, fault: str) -> None:
    if fault == "status":
        stack.debtor_state.fail_next(50)
    else:
        stack.debtor_state.answer_garbage(fault, times=None)  # type: ignore[arg-type]
    page = anne(client, stack)
    assert page.status_code == 200
    html = page.text
    assert "Status fra Mit Betalingsoverblik kunne ikke hentes" in html
    assert 'role="alert"' in html
    # FBS's own figures, and nothing the debtor system would have added or explained.
    assert 'data-total="all">803,75' in html and 'data-total="handed-over">489,00' in html
    # Labelled as the library system's figure, not as all there is to pay.
    assert "Ifølge bibliotekssystemet skylder du" in html and "I alt skylder du" not in html
    assert "data-total-incomplete" in html
    assert "Rykkergebyr" not in html and "Status i Mit Betalingsoverblik" not in html
    assert "Endnu ikke synlig" not in html and "afventer registrering" not in html
    body = client.get(f"{stack.url}/api/v1/libraries/lyngby/overview").json()
    assert body["providers"] == {"fbs": "ok", "debtor": "error"} and body["total"] == "803.75"


def test_slow_debtor_times_out_and_the_page_still_shows(client: httpx.Client, stack: Stack) -> None:
    stack.debtor_state.delay_answers(10)
    try:
        page = anne(client, stack)
    finally:
        stack.debtor_state.reset_faults()
    assert page.status_code == 200 and "Status fra Mit Betalingsoverblik kunne ikke hentes" in page.text


def test_fbs_failing_fails_the_page_even_with_the_debtor_up(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-eva")
    with stack.app.app_context():
        # The page shown at sign-in is no fallback either (portal.services.stale).
        store.delete_many("fbs:DK-717300:1005:fees", "fbs:DK-717300:1005:patron", "snapshot:DK-717300:1005")
    stack.fbs_state.fail_next(50, endpoint="fees")
    page = client.get(f"{stack.url}/lyngby/")
    assert page.status_code == 503 and "kr." not in page.text
    api = client.get(f"{stack.url}/api/v1/libraries/lyngby/overview")
    assert api.status_code == 503 and api.json()["providers"] == {"fbs": "error"}
    assert "total" not in api.json()


def test_recently_paid_in_fbs(client: httpx.Client, stack: Stack) -> None:
    """Anne paid fee 603 at Rødovre a few days ago: listed, in no total."""
    page = anne(client, stack, slug="rodovre")
    assert 'aria-labelledby="recently-paid"' in page.text and 'data-fee-id="603"' in page.text
    body = client.get(f"{stack.url}/api/v1/libraries/rodovre/overview").json()
    assert [row["fee_id"] for row in body["recently_paid"]] == [603]
    assert Decimal(body["total"]) == Decimal("80.00")


def test_no_cpr_number_in_any_debtor_url(client: httpx.Client, stack: Stack) -> None:
    anne(client, stack)
    requests = stack.debtor_state.requests
    assert requests and all("0101901111" not in path + query for _method, path, query in requests)


def summary_lines(html: str) -> list[str]:
    """The summary's lines as a reader sees them: 'Betales her: 314,75 kr.'."""
    summary = html[html.index('id="debt-summary"') :]
    summary = summary[: summary.index("</div>")]
    items = re.findall(r"<li>(.*?)</li>", summary, re.S)
    # Only ASCII whitespace collapses: the no-break space between amount and "kr." is part of the text.
    return [re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", item)).strip().replace(" :", ":") for item in items]


@pytest.mark.parametrize(
    ("person", "lines", "banner"),
    [
        # Anne: 314,75 payable here, 155,00 in Mit Betalingsoverblik.
        ("demo-anne", ["Betales her: 314,75\xa0kr.", "Betales i Mit Betalingsoverblik: 155,00\xa0kr."], None),
        # Bent, blocked: 710,00 payable here; only the debtor's 20,00 left in Mit Betalingsoverblik.
        (
            "demo-bent",
            ["Betales her: 710,00\xa0kr.", "Betales i Mit Betalingsoverblik: 20,00\xa0kr."],
            "Du kan betale 710,00\xa0kr. til biblioteket med det samme i (net)banken med kodelinjen nedenfor.",
        ),
    ],
)
def test_each_summary_line_shows_its_own_sections_total(
    client: httpx.Client, stack: Stack, person: str, lines: list[str], banner: str | None
) -> None:
    http_login(client, stack.url, person)
    html = client.get(f"{stack.url}/lyngby/").text
    assert summary_lines(html) == lines
    if banner is not None:
        assert banner in html


@pytest.mark.parametrize(
    ("code", "blocked_for_debts"),
    [("O", False), ("U", False), ("E", True)],  # card reported stolen, excluded; over the debt limit
)
def test_only_a_debt_block_is_explained_as_one(
    client: httpx.Client, stack: Stack, code: str, blocked_for_debts: bool
) -> None:
    block = {"blockedReason": code, "blockedSince": "2024-03-12", "message": "x"}
    with stack.fbs_state.lock:
        stack.fbs_state.blocks[1001] = [block]
    try:
        page = anne(client, stack).text
        api = client.get(f"{stack.url}/api/v1/libraries/lyngby/overview").json()
    finally:
        with stack.fbs_state.lock:
            del stack.fbs_state.blocks[1001]
    assert ("Dit lånerkort er spærret på grund af ubetalte mellemværender" in page) is blocked_for_debts
    assert ("Du kan betale 314,75\xa0kr. til biblioteket med det samme" in page) is blocked_for_debts
    assert api["blocked_for_fees"] is blocked_for_debts
    assert 'data-total="all">469,75' in page  # the debts themselves are shown either way
