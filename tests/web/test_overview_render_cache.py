"""The warm overview is rendered once and served from `portal.web.page_cache` (issue 11).

Each change that shapes the page must be seen at once: a publish, a new fee, a language switch,
the next printed minute, a sign-out (and another borrower's sign-in). The page cache is keyed by
the data, so these tests count renders and read the pages a borrower gets over real HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import flask
import httpx
import pytest
from flask import Flask

from portal import clock, db
from portal.auth.citizen_session import Citizen
from portal.devtools.demo_data import LYNGBY
from portal.libraries.editing import form_values, load_state, publish, save_draft
from portal.libraries.repository import get_library
from portal.payments.models import PaymentOrderRow
from portal.providers.setup import EXTENSION_KEY as UPSTREAMS
from portal.services.preview_debts import fee_json, preview_debts
from portal.web.overview_page import overview_context, page_key
from portal.web.page_cache import RenderedPages, digest, rendered_pages
from tests.payments.conftest import PAYABLE, World
from tests.support.login import http_login
from tests.support.stack import Stack
from tests.web.test_payment_pages import page, sign_in

ANNE = 1001


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The overview templates rendered while the test runs."""
    rendered: list[str] = []

    def counting(template: str, **context: Any) -> str:
        rendered.append(template)
        return flask.render_template(template, **context)

    monkeypatch.setattr("portal.web.overview_page.render_template", counting)
    yield rendered


@pytest.fixture
def frozen(stack: Stack) -> Iterator[clock.FrozenClock]:
    """The clock held still (the server's threads share it), so the printed minute stays the same."""
    rendered_pages(stack.app).clear()
    with clock.frozen(clock.now()) as held:
        yield held


@pytest.fixture
def anne(stack: Stack, frozen: clock.FrozenClock) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        assert http_login(client, stack.url, "demo-anne").status_code == 200
        rendered_pages(stack.app).clear()  # the sign-in's own view is not the test's
        yield client


def view(client: httpx.Client, stack: Stack, query: str = "") -> str:
    page = client.get(f"{stack.url}/lyngby/{query}")
    assert page.status_code == 200
    return page.text


def test_a_warm_view_is_rendered_once(stack: Stack, anne: httpx.Client, renders: list[str]) -> None:
    first = view(anne, stack)
    second = view(anne, stack)
    assert renders == ["overview/overview.html"]
    assert second == first and "Anne" in second


def test_the_view_after_a_refetch_is_not_rendered_again(stack: Stack, anne: httpx.Client, renders: list[str]) -> None:
    """The view that fetched from FBS keys its page by the versions it stored: the next view's key."""
    stack.app.extensions[UPSTREAMS].forget_patrons({LYNGBY: ANNE})  # as when the entries expire
    fresh = view(anne, stack)
    assert view(anne, stack) == fresh and "Anne" in fresh
    assert renders == ["overview/overview.html"]


def test_the_next_printed_minute_renders_anew(
    stack: Stack, anne: httpx.Client, frozen: clock.FrozenClock, renders: list[str]
) -> None:
    before = view(anne, stack)
    frozen.move_to(clock.now() + timedelta(minutes=1))
    after = view(anne, stack)
    assert len(renders) == 2
    shown = clock.local(clock.now()).strftime("%H:%M")
    assert shown in after and before != after


def test_a_new_fee_is_seen_at_once(stack: Stack, anne: httpx.Client, renders: list[str]) -> None:
    assert "Gebyr for cachetest" not in view(anne, stack)
    stack.fbs_state.fees[ANNE].append(fee_json(9901, "fee", "Gebyr for cachetest", 77, "2021-03-01", True))
    try:
        # As when the provider cache's entry expires: the next view asks FBS again.
        stack.app.extensions[UPSTREAMS].forget_patrons({LYNGBY: ANNE})
        assert "Gebyr for cachetest" in view(anne, stack)
    finally:
        stack.fbs_state.fees[ANNE].pop()
        stack.app.extensions[UPSTREAMS].forget_patrons({LYNGBY: ANNE})
    assert len(renders) == 2


def _publish_name(app: Flask, name: str) -> None:
    with app.app_context():
        session = db.session()
        state = load_state(session, "lyngby")
        library = get_library("lyngby")
        assert state is not None and library is not None
        draft = save_draft(session, "lyngby", {**form_values(library), "name": name}, "anna", state.version)
        publish(session, "lyngby", "anna", draft.version)


def _a_publish_is_seen_at_once(stack: Stack, client: httpx.Client) -> None:
    with stack.app.app_context():
        library = get_library("lyngby")
        assert library is not None
        name = library.name
    assert name in view(client, stack)
    _publish_name(stack.app, "Lyngby Cachetest Bibliotek")
    try:
        assert "Lyngby Cachetest Bibliotek" in view(client, stack)
    finally:
        _publish_name(stack.app, name)
    assert "Lyngby Cachetest Bibliotek" not in view(client, stack)


def test_a_publish_is_seen_at_once(stack: Stack, anne: httpx.Client) -> None:
    _a_publish_is_seen_at_once(stack, anne)


def test_a_language_switch_is_seen_at_once(stack: Stack, anne: httpx.Client) -> None:
    assert "Dine mellemværender med biblioteket" in view(anne, stack)
    assert "Your debts to the library" in view(anne, stack, "?lang=en")
    assert "Your debts to the library" in view(anne, stack)  # the language cookie
    assert "Dine mellemværender med biblioteket" in view(anne, stack, "?lang=da")


def test_sign_out_drops_the_pages_and_the_next_borrower_sees_their_own(stack: Stack, anne: httpx.Client) -> None:
    assert "Anne" in view(anne, stack)
    pages = rendered_pages(stack.app)
    assert len(pages) == 1
    anne.post(f"{stack.url}/lyngby/logout")
    assert len(pages) == 0
    signed_out = view(anne, stack)
    assert "Anne" not in signed_out and "Log ud" not in signed_out
    bent = http_login(anne, stack.url, "demo-bent")
    assert "Bent" in bent.text and "Anne" not in bent.text


# -- the signed-out page -------------------------------------------------------------------------


def test_the_signed_out_page_is_rendered_once_per_library_language_and_url(
    stack: Stack, frozen: clock.FrozenClock, renders: list[str]
) -> None:
    with httpx.Client(timeout=10) as visitor:
        danish = view(visitor, stack)
        assert view(visitor, stack) == danish and "Log ind" in danish
        assert renders == ["overview/signed_out.html"]
        english = view(visitor, stack, "?lang=en")
        assert "Sign in" in english and "Log ind" not in english
        assert view(visitor, stack, "?lang=en") == english
        rodovre = visitor.get(f"{stack.url}/rodovre/")
        assert rodovre.status_code == 200 and "Rødovre" in rodovre.text and "Lyngby" not in rodovre.text
    assert len(renders) == 3


def test_a_publish_is_seen_at_once_on_the_signed_out_page(stack: Stack, frozen: clock.FrozenClock) -> None:
    with httpx.Client(timeout=10) as visitor:
        assert "Log ind" in view(visitor, stack)  # signed out: the page kept for everyone
        _a_publish_is_seen_at_once(stack, visitor)


def test_a_signed_out_page_with_another_query_is_rendered_every_time(
    stack: Stack, frozen: clock.FrozenClock, renders: list[str]
) -> None:
    """Made-up query strings must not fill the cache: each would be a key of its own."""
    with httpx.Client(timeout=10) as visitor:
        for n in range(3):
            assert "Log ind" in view(visitor, stack, f"?utm_source=mail{n}")
    assert len(renders) == 3
    assert len(rendered_pages(stack.app)) == 0


def test_signing_in_after_the_signed_out_page_shows_the_overview(stack: Stack, frozen: clock.FrozenClock) -> None:
    with httpx.Client(timeout=10) as visitor:
        assert "Log ind" in view(visitor, stack)
        assert http_login(visitor, stack.url, "demo-anne").status_code == 200
        assert "Anne" in view(visitor, stack)
        visitor.post(f"{stack.url}/lyngby/logout")
        signed_out = view(visitor, stack)
        assert "Anne" not in signed_out and "Log ind" in signed_out


# -- the key -------------------------------------------------------------------------------------


def _citizen(**changes: Any) -> Citizen:
    return replace(Citizen("sub-1", "Anne Andersen", "0101901111", None, "https://idp"), **changes)


@pytest.fixture
def key_of(stack: Stack, frozen: clock.FrozenClock) -> Iterator[Callable[..., object]]:
    """`page_key` of Lyngby's example page with some context values changed."""
    with stack.app.test_request_context("/lyngby/"):
        library = get_library("lyngby")
        assert library is not None
        base = overview_context(library, preview_debts(library), preview=True)

        def key_of(**changes: Any) -> object:
            return page_key({**base, "citizen": _citizen(), **changes})

        yield key_of


def test_equal_contexts_have_equal_keys(key_of: Callable[..., object]) -> None:
    assert key_of() == key_of()


@pytest.mark.parametrize(
    "changes",
    [
        {"card_payment": {"csrf_token": "another session's token"}},
        {"debtor_status": "error"},
        {"debts_complete": False},
        {"works": {"12345678": "a title"}},
        {"citizen": _citizen(name="Bent Berg")},
        {"a_value_added_later": True},
    ],
)
def test_every_value_the_page_shows_is_in_the_key(key_of: Callable[..., object], changes: dict[str, Any]) -> None:
    assert key_of(**changes) != key_of()


def test_the_cpr_number_and_tokens_are_not(key_of: Callable[..., object]) -> None:
    other = _citizen(cpr="0202852222", access_token="token", id_token="id-token", sub="sub-2")
    assert key_of(citizen=other) == key_of()


def test_language_and_path_are_in_the_key(stack: Stack, frozen: clock.FrozenClock) -> None:
    def key(path: str) -> object:
        with stack.app.test_request_context(path):
            library = get_library("lyngby")
            assert library is not None
            return page_key(overview_context(library, preview_debts(library), preview=True))

    assert key("/lyngby/") == key("/lyngby/")
    assert key("/lyngby/?lang=en") != key("/lyngby/")
    assert key("/lyngby/embed") != key("/lyngby/")


# -- the store -----------------------------------------------------------------------------------


def test_the_store_is_bounded_and_drops_the_oldest() -> None:
    pages = RenderedPages(max_bytes=10)
    pages.put(("a", b"1"), "xxxx", None)
    pages.put(("b", b"2"), "yyyy", None)
    assert pages.get(("a", b"1")) == "xxxx"  # now the newest
    pages.put(("c", b"3"), "zzzz", None)
    assert pages.get(("b", b"2")) is None
    assert pages.get(("a", b"1")) == "xxxx" and pages.get(("c", b"3")) == "zzzz"
    pages.put(("d", b"4"), "w" * 11, None)  # larger than the whole store: never kept
    assert pages.get(("d", b"4")) is None and len(pages) == 2


def test_forgetting_an_owner_drops_only_their_pages() -> None:
    pages = RenderedPages()
    pages.put(("a", b"1"), "anne's", (LYNGBY, ANNE))
    pages.put(("b", b"2"), "bent's", (LYNGBY, 1002))
    pages.forget_owners([(LYNGBY, ANNE)])
    assert pages.get(("a", b"1")) is None and pages.get(("b", b"2")) == "bent's"


def test_an_uncacheable_context_is_rendered_every_time(key_of: Callable[..., object]) -> None:
    assert key_of(a_value_added_later=lambda: None) is None  # pickle cannot take it
    pages, calls = RenderedPages(), []

    def render() -> str:
        calls.append(1)
        return "page"

    assert pages.render(None, None, render) == pages.render(None, None, render) == "page"
    assert len(calls) == 2 and len(pages) == 0


def test_a_payment_order_counts_by_its_columns() -> None:
    def order(state: str) -> PaymentOrderRow:
        return PaymentOrderRow(order_id="order-1", library_slug="lyngby", state=state, total_ore=7700)

    assert digest([order("completed")]) == digest([order("completed")])
    assert digest([order("completed")]) != digest([order("resolved")])


def test_a_card_payment_started_is_seen_at_once(world: World, renders: list[str]) -> None:
    with clock.frozen(clock.now()):
        client, token = sign_in(world)
        first = page(client, "/lyngby/")
        assert 'name="csrf_token"' in first and "data-live-orders" not in first
        # The first view's data came from FBS and the next ones' from the cache, keyed alike (by the
        # versions of its entries, `CitizenDebts.source`): the same page, not rendered again.
        warm = len(renders)
        assert page(client, "/lyngby/") == first and len(renders) == warm
        started = client.post("/lyngby/betaling/", data={"csrf_token": token, "fee": [str(fee) for fee in PAYABLE]})
        assert started.status_code == 303
        after = page(client, "/lyngby/")
    assert "data-live-orders" in after and len(renders) == warm + 1
