"""Who may do what in the editor area: every editor route × every kind of visitor, GET and POST.

Lone edits Lyngby, Rasmus edits Rødovre, Ada administers all; Anne is a citizen signed in
with MitID (no editor sign-in); the anonymous visitor has no session at all. The card payment
routes follow the payments claim instead: Lone and Bente are Lyngby's payment staff (Bente
edits nothing), Ada is payment staff everywhere, Rasmus edits Rødovre but reviews no payments. A foreign library
answers exactly like a library that does not exist (404), and a refused request changes nothing.
Lyngby's children's library `lyngby-boern` shares Lyngby's slug as a prefix: being allowed to
edit `lyngby` must not open it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask

from portal import clock, create_app, db
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.devtools.idp import DevIdp
from portal.domain.fees import Fee, FeeType
from portal.domain.overview import fee_mismatches
from portal.editor.guard import PUBLIC_ENDPOINTS, is_payments_rule
from portal.libraries import disagreements, editing
from tests.editor.conftest import portal_settings
from tests.editor.helpers import (
    ADA,
    ANNE,
    BENTE,
    LONE,
    RASMUS,
    EditorBrowser,
    fingerprint,
    form_of,
    make_order,
    page_text,
    payments_fingerprint,
    save_draft,
    schedule,
    state,
)

LIBRARIES = ("lyngby", "lyngby-boern", "rodovre")
PREFIXED_LIBRARY = """
[[library]]
slug = "lyngby-boern"
name = "Lyngby-Taarbæk Bibliotekerne, børn"
agency_id = "DK-717301"
cutoff_date = 2022-01-01
"""
UNKNOWN = "nowhere"
CITIZEN, ANONYMOUS = "citizen", "anonymous"
EDITORS = (LONE, RASMUS, ADA, BENTE)
VISITORS = (*EDITORS, CITIZEN, ANONYMOUS)
MAY_EDIT = {LONE: {"lyngby"}, RASMUS: {"rodovre"}, ADA: set(LIBRARIES), BENTE: set(), CITIZEN: set(), ANONYMOUS: set()}
MAY_REVIEW = {
    LONE: {"lyngby"},
    RASMUS: set(),
    ADA: set(LIBRARIES),
    BENTE: {"lyngby"},
    CITIZEN: set(),
    ANONYMOUS: set(),
}


@pytest.fixture(scope="module")
def app(idp: DevIdp, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    # One portal for the whole matrix: every case prepares what it needs and compares before/after.
    folder = Path(tmp_path_factory.mktemp("matrix"))
    libraries = folder / "libraries.toml"
    libraries.write_text(DEMO_LIBRARIES_FILE.read_text(encoding="utf-8") + PREFIXED_LIBRARY, encoding="utf-8")
    app = create_app(portal_settings(idp.issuer, folder / "portal.sqlite3", PORTAL_LIBRARIES_FILE=str(libraries)))
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def browsers(app: Flask) -> Iterator[dict[str, EditorBrowser]]:
    opened = {visitor: EditorBrowser(app) for visitor in VISITORS}
    for editor in EDITORS:
        assert opened[editor].editor_login(editor).status_code == 302
    assert opened[CITIZEN].login(ANNE).status_code == 302
    yield opened
    for browser in opened.values():
        browser.close()


_days = itertools.count(10)


def _future_day() -> date:
    # A different day for every schedule, so no case trips over another's.
    return clock.today() + timedelta(days=next(_days))


@dataclass(frozen=True)
class Post:
    """A POST route and how to make a request to it that succeeds for an allowed editor."""

    endpoint: str
    prepare: Callable[[Flask, str], tuple[str, dict[str, str]]]  # (app, slug) -> (path, form)
    payments: bool = False  # a card payment route: open to the library's payment staff, not its editors

    def allowed(self, visitor: str) -> set[str]:
        return (MAY_REVIEW if self.payments else MAY_EDIT)[visitor]

    def fingerprint(self, app: Flask, slug: str = "lyngby") -> object:
        """What the request changes when it succeeds, and must leave as it was when refused."""
        return payments_fingerprint(app, slug) if self.payments else fingerprint(app, slug)


def _save(app: Flask, slug: str) -> tuple[str, dict[str, str]]:
    return f"/editor/{slug}/", form_of(app, slug, **{"text.da.intro": f"Ny intro {next(_days)}"})


def _discard(app: Flask, slug: str) -> tuple[str, dict[str, str]]:
    save_draft(app, slug)
    return f"/editor/{slug}/discard", {"version": state(app, slug).version}


def _publish(app: Flask, slug: str) -> tuple[str, dict[str, str]]:
    save_draft(app, slug, **{"text.en.intro": f"New intro {next(_days)}"})
    return f"/editor/{slug}/publish", {"version": state(app, slug).version}


def _schedule(app: Flask, slug: str) -> tuple[str, dict[str, str]]:
    return f"/editor/{slug}/schedule", {
        "effective_from": _future_day().isoformat(),
        "scheduled_cutoff_date": "2020-01-01",
        "version": state(app, slug).version,
    }


def _cancel_schedule(app: Flask, slug: str) -> tuple[str, dict[str, str]]:
    entry = schedule(app, _future_day(), date(2020, 1, 1), slug).upcoming[-1]
    return f"/editor/{slug}/schedule/{entry.id}/cancel", {"version": state(app, slug).version}


def _restore(app: Flask, slug: str) -> tuple[str, dict[str, str]]:
    # Revision 1 is restorable only while it differs from what citizens see: publish a change first.
    save_draft(app, slug, **{"text.da.delay_notice": f"Før gendannelsen {next(_days)}"})
    with app.app_context():
        editing.publish(db.session(), slug, "test", state(app, slug).version)
    return f"/editor/{slug}/history/1/restore", {"version": state(app, slug).version}


def _draft_suggested_cutoff(app: Flask, slug: str) -> tuple[str, dict[str, str]]:
    # A fee of the month before the date in force, handed over by FBS: the tally suggests a date.
    found = state(app, slug)
    created = (found.current_cutoff.replace(day=1) - timedelta(days=1)).replace(day=1)
    mismatches = fee_mismatches(
        [Fee(1, FeeType.FEE, "Gebyr", Decimal("30"), created, None, False)], found.current_cutoff
    )
    with app.app_context():
        disagreements.record(db.session(), slug, mismatches, clock.now())
        suggested = disagreements.summary(db.session(), slug, found.current_cutoff).suggested_cutoff
    assert suggested is not None
    return f"/editor/{slug}/suggested-cutoff", {"cutoff_date": suggested.isoformat(), "version": found.version}


def _resolve_payment(app: Flask, slug: str) -> tuple[str, dict[str, str]]:
    return f"/editor/{slug}/betalinger/{make_order(app, slug)}/resolve", {"note": "Trukket i Nexi-portalen"}


POSTS = (
    Post("editor.save", _save),
    Post("editor.discard", _discard),
    Post("editor.publish", _publish),
    Post("editor.schedule", _schedule),
    Post("editor.cancel_schedule", _cancel_schedule),
    Post("editor.restore", _restore),
    Post("editor.draft_suggested_cutoff", _draft_suggested_cutoff),
    Post("editor.resolve_payment", _resolve_payment, payments=True),
)
# POSTs that change nothing: the live preview of a text (the storage is untouched either way).
READ_ONLY_POSTS = {"editor.text_preview": "/editor/{slug}/text-preview"}
GETS = {
    "editor.edit": "/editor/{slug}/",
    "editor.history": "/editor/{slug}/history",
    "editor.preview": "/editor/{slug}/preview/da",
}
UNKNOWN_LIBRARY_POSTS = {
    "editor.save": "/editor/{slug}/",
    "editor.discard": "/editor/{slug}/discard",
    "editor.publish": "/editor/{slug}/publish",
    "editor.schedule": "/editor/{slug}/schedule",
    "editor.cancel_schedule": "/editor/{slug}/schedule/1/cancel",
    "editor.restore": "/editor/{slug}/history/1/restore",
    "editor.draft_suggested_cutoff": "/editor/{slug}/suggested-cutoff",
    "editor.resolve_payment": "/editor/{slug}/betalinger/GP-0/resolve",
    "editor.text_preview": "/editor/{slug}/text-preview",
}
# Card payment pages, for the payment staff of the library; {order} is an order of that library.
PAYMENT_GETS = {
    "editor.payments": "/editor/{slug}/betalinger/",
    "editor.payment": "/editor/{slug}/betalinger/{order}",
}


@pytest.fixture(scope="module")
def orders(app: Flask) -> dict[str, str]:
    """One order waiting for review in each library (its id; a made-up one for the unknown library)."""
    return {**{slug: make_order(app, slug) for slug in LIBRARIES}, UNKNOWN: "GP-000000000000000000000000"}


def test_the_matrix_covers_every_editor_route(app: Flask) -> None:
    """A new route must be added here, or this fails: the guard's coverage is tested, not assumed."""
    routed = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("editor.")}
    covered = (
        set(GETS) | set(PAYMENT_GETS) | set(READ_ONLY_POSTS) | {post.endpoint for post in POSTS} | {"editor.logout"}
    )
    assert routed - PUBLIC_ENDPOINTS == covered
    assert PUBLIC_ENDPOINTS == {"editor.index", "editor.login", "editor.callback"}
    payments = set(PAYMENT_GETS) | {post.endpoint for post in POSTS if post.payments}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in covered - {"editor.logout"}:
            # Every library route names its library `slug`: that is what the guard checks.
            assert "slug" in rule.arguments, rule
            # The guard asks for the payments claim exactly on the routes this matrix expects it for.
            assert is_payments_rule(rule.rule) == (rule.endpoint in payments), rule


def _expected_get(visitor: str, slug: str, path: str) -> tuple[int, str | None]:
    if visitor in (CITIZEN, ANONYMOUS):
        return 302, f"/editor/login?next={path}"
    return (200, None) if slug in MAY_EDIT[visitor] else (404, None)


@pytest.mark.parametrize("slug", LIBRARIES + (UNKNOWN,))
@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("endpoint", sorted(GETS) + ["editor.preview-en"])
def test_get(browsers: dict[str, EditorBrowser], visitor: str, slug: str, endpoint: str) -> None:
    path = GETS[endpoint].format(slug=slug) if endpoint in GETS else f"/editor/{slug}/preview/en"
    response = browsers[visitor].get(path)
    status, location = _expected_get(visitor, slug, path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if location is not None:
        assert response.headers["Location"] == location
    if status == 404:
        # The same page as for any unknown address: nothing says the library exists.
        assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("slug", LIBRARIES + (UNKNOWN,))
@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("endpoint", sorted(PAYMENT_GETS))
def test_payment_get(
    browsers: dict[str, EditorBrowser], orders: dict[str, str], visitor: str, slug: str, endpoint: str
) -> None:
    path = PAYMENT_GETS[endpoint].format(slug=slug, order=orders[slug])
    response = browsers[visitor].get(path)
    if visitor in (CITIZEN, ANONYMOUS):
        assert response.status_code == 302
        assert response.headers["Location"] == f"/editor/login?next={path}"
        return
    allowed = slug in MAY_REVIEW[visitor]
    assert response.status_code == (200 if allowed else 404), response.get_data(as_text=True)[:500]
    text = page_text(response)  # the address itself is in the page's language links
    if allowed:
        assert orders[slug] in text
    else:
        assert "Page not found" in text and orders[slug] not in text


@pytest.mark.parametrize("slug", LIBRARIES)
@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("post", POSTS, ids=lambda post: post.endpoint)
def test_post(app: Flask, browsers: dict[str, EditorBrowser], visitor: str, slug: str, post: Post) -> None:
    path, form = post.prepare(app, slug)
    before = post.fingerprint(app, slug)
    # Each editor sends their own valid CSRF token: only the authorization can refuse them.
    response = browsers[visitor].send(path, form)
    if slug in post.allowed(visitor):
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        assert post.fingerprint(app, slug) != before
        return
    expected = 404 if visitor in EDITORS else 401
    assert response.status_code == expected
    assert post.fingerprint(app, slug) == before


@pytest.mark.parametrize("slug", LIBRARIES)
@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("endpoint", sorted(READ_ONLY_POSTS))
def test_read_only_post(app: Flask, browsers: dict[str, EditorBrowser], visitor: str, slug: str, endpoint: str) -> None:
    before = fingerprint(app, slug)
    form = {"field": "text.da.intro", "text": "**Hej** {cutoff_date}"}
    response = browsers[visitor].send(READ_ONLY_POSTS[endpoint].format(slug=slug), form)
    if slug in MAY_EDIT[visitor]:
        assert response.status_code == 200
        assert response.get_json()["html"].startswith("<p><strong>Hej</strong> ")
    else:  # a foreign library answers as one that does not exist; no preview of its texts
        assert response.status_code == (404 if visitor in EDITORS else 401)
        assert "Hej" not in response.get_data(as_text=True)
    assert fingerprint(app, slug) == before


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("endpoint", sorted(UNKNOWN_LIBRARY_POSTS))
def test_post_to_an_unknown_library(browsers: dict[str, EditorBrowser], visitor: str, endpoint: str) -> None:
    path = UNKNOWN_LIBRARY_POSTS[endpoint].format(slug=UNKNOWN)
    response = browsers[visitor].send(path, {"version": "1-20210615"})
    assert response.status_code == (401 if visitor in (CITIZEN, ANONYMOUS) else 404)


@pytest.mark.parametrize("visitor", VISITORS)
def test_library_list_shows_only_the_editors_libraries(browsers: dict[str, EditorBrowser], visitor: str) -> None:
    page = browsers[visitor].get("/editor/").get_data(as_text=True)
    for slug in LIBRARIES:
        assert (f'href="/editor/{slug}/"' in page) == (slug in MAY_EDIT[visitor])
        assert (f'href="/editor/{slug}/betalinger/"' in page) == (slug in MAY_REVIEW[visitor])
    if visitor in (CITIZEN, ANONYMOUS):
        assert 'href="/editor/login"' in page  # the invitation to sign in as editor


def test_an_editor_without_libraries_sees_none(browsers: dict[str, EditorBrowser], app: Flask) -> None:
    niels = EditorBrowser(app)
    niels.editor_login("editor-niels")
    page = niels.get("/editor/")
    assert page.status_code == 200
    assert "Your login gives you no libraries to edit" in page.get_data(as_text=True)
    assert niels.get("/editor/lyngby/").status_code == 404
    niels.close()


@pytest.mark.parametrize("visitor,status", [(CITIZEN, 401), (ANONYMOUS, 401)])
def test_logout_needs_an_editor(browsers: dict[str, EditorBrowser], visitor: str, status: int) -> None:
    assert browsers[visitor].send("/editor/logout").status_code == status
