"""A browser for the editor area: the portal through Flask's test client, the dev IdP over real HTTP."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Mapping
from datetime import date

from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal import db
from portal.devtools.idp import IdpClient
from portal.domain.payment import OrderLine, OrderSnapshot, new_order_id
from portal.libraries import editing
from portal.libraries.editing import EditorState
from portal.libraries.library import Library
from portal.payments import reasons, store
from portal.payments.models import PaymentOrderRow
from portal.payments.reasons import Code, Reason
from portal.payments.setup import runtime
from portal.payments.states import State
from tests.auth.helpers import CLIENT_ID, CLIENT_SECRET, PORTAL_URL, Browser

EDITOR_CLIENT_ID = "gebyrportal-editor-test"
EDITOR_CLIENT_SECRET = "gebyrportal-editor-test-secret"
EDITOR_CALLBACK = f"{PORTAL_URL}/editor/callback"

# The dev IdP's demo editors (portal/devtools/idp/editors.py) and a demo citizen.
LONE, RASMUS, ADA, NIELS = "editor-lone", "editor-rasmus", "editor-ada", "editor-niels"
BENTE = "editor-bente"  # payment staff of Lyngby who edits nothing
PATRON = 4711
# Why make_order's orders wait, and how the English page words it.
REVIEW = reasons.gave_up(Reason(Code.PAYMENTS_UNCONFIGURED), 7)
REVIEW_REASON = (
    "The portal gave up after 7 attempts. The last one failed: Card payment is no longer set up for the library."
)
ANNE = "demo-anne"

# Fetch Metadata of a form sent from the portal's own page, and of forms sent from anywhere else.
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
NOT_OWN_PAGES = [{}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}]


def idp_clients() -> list[IdpClient]:
    """The portal under test at the dev IdP: its citizens' client and its editor client."""
    return [
        IdpClient(CLIENT_ID, CLIENT_SECRET, [f"{PORTAL_URL}/auth/callback"], [f"{PORTAL_URL}/lyngby/"]),
        IdpClient(
            EDITOR_CLIENT_ID, EDITOR_CLIENT_SECRET, [EDITOR_CALLBACK], [f"{PORTAL_URL}/editor/"], people="editors"
        ),
    ]


class EditorBrowser(Browser):
    """Adds the editor's sign-in and forms that carry the CSRF token to the auth tests' browser."""

    def start_editor_login(self, next_path: str | None = None) -> str:
        """The IdP authorization URL /editor/login redirects to."""
        response = self.portal.get("/editor/login", query_string={"next": next_path} if next_path else None)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response.headers["Location"]

    def editor_login(self, sub: str, next_path: str | None = None) -> TestResponse:
        """A whole editor sign-in as demo editor `sub`; returns the portal's answer to the callback."""
        return self.get(self.choose(self.start_editor_login(next_path), {"sub": sub}))

    def csrf_token(self) -> str:
        """The signed-in editor's token, as the pages put it in their forms."""
        stored = self.stored() or {}
        token: str = stored.get("editor", {}).get("csrf_token", "")
        return token

    def send(
        self, path: str, data: Mapping[str, str] | None = None, *, csrf: str | None = None, version: str | None = None
    ) -> TestResponse:
        """POST a form as the pages do: with this session's CSRF token (unless `csrf` overrides it)."""
        form = dict(data or {})
        form.setdefault("csrf_token", self.csrf_token() if csrf is None else csrf)
        if version is not None:
            form["version"] = version
        return self.portal.post(path, data=form)


def state(app: Flask, slug: str = "lyngby") -> EditorState:
    with app.app_context():
        found = editing.load_state(db.session(), slug)
    assert found is not None
    return found


def draft(app: Flask, slug: str = "lyngby") -> Library:
    """The library's saved draft; there must be one."""
    found = state(app, slug).draft
    assert found is not None
    return found


def history_length(app: Flask, slug: str = "lyngby") -> int:
    with app.app_context():
        return len(editing.history(db.session(), slug))


def fingerprint(app: Flask, slug: str = "lyngby") -> tuple[str, int, bool]:
    """What a refused request must leave as it was: version, history length, whether a draft exists."""
    found = state(app, slug)
    return found.version, history_length(app, slug), found.draft is not None


def form_of(app: Flask, slug: str = "lyngby", **changes: str) -> dict[str, str]:
    """The library's form as the edit page fills it in (draft or published), with `changes`."""
    found = state(app, slug)
    values = editing.form_values(found.draft or found.published)
    return {**values, **changes, "version": found.version}


def save_draft(app: Flask, slug: str = "lyngby", by: str = "test", **changes: str) -> EditorState:
    """Put a draft in place directly through the storage (a precondition, not the thing tested)."""
    form = form_of(app, slug, **changes)
    with app.app_context():
        return editing.save_draft(db.session(), slug, form, by, form["version"])


def schedule(app: Flask, effective_from: date, cutoff_date: date, slug: str = "lyngby") -> EditorState:
    found = state(app, slug)
    with app.app_context():
        return editing.schedule_cutoff(db.session(), slug, effective_from, cutoff_date, "test", found.version)


def page_text(response: TestResponse) -> str:
    """The page's visible text, roughly: tags dropped, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def loaded_form(browser: EditorBrowser, slug: str = "lyngby") -> dict[str, str]:
    """The main form's fields as the edit page filled them in (what a browser would send back)."""
    page = browser.get(f"/editor/{slug}/").get_data(as_text=True)
    form = page[page.index(f'action="/editor/{slug}/"') :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)" value="([^"]*)"', form))
    fields.update(re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, flags=re.S))
    return {name: html.unescape(value) for name, value in fields.items() if name != "csrf_token"}


_fee_ids = itertools.count(9000)


def make_order(
    app: Flask,
    slug: str = "lyngby",
    *,
    to: State | None = State.NEEDS_REVIEW,
    fees: int = 2,
    reason: Reason | str = REVIEW,
) -> str:
    """A payment order of the library, written through the store and moved straight to `to`.

    No gateway or FBS: the review pages only read what the store holds. Fee ids never repeat,
    so orders never hold each other's fees. A `reason` given as text is an order from before
    reason codes: only its English sentence is stored.
    """
    lines = tuple(OrderLine(next(_fee_ids), f"Gebyr {n + 1}", 2500 + 100 * n) for n in range(fees))
    order = OrderSnapshot(new_order_id(), lines)
    with app.app_context():
        rt = runtime()
        with rt.sessions() as session:
            agency = rt.library(session, slug)
            assert agency is not None, slug
            store.insert_order(
                session,
                order=order,
                library_slug=slug,
                agency_id=agency.agency_id,
                patron_id=PATRON,
                owner=store.owner_of(rt.settings.secret_key, agency.agency_id, PATRON),
                source="test",
            )
            if to is not None and to is not State.CREATED:
                fields = _review_fields(reason) if to is State.NEEDS_REVIEW else {}
                change = store.Change(fields, None, f"test: to {to.value}", "test")
                assert store.transition(session, order.order_id, State.CREATED, to, change)
    return order.order_id


def _review_fields(reason: Reason | str) -> dict[str, object]:
    return {"review_reason": reason} if isinstance(reason, str) else store.review_fields(reason)


def order_state(app: Flask, order_id: str) -> tuple[str, str | None, str | None, int]:
    """(state, resolved by, note, history length): what a refused resolve must leave as it was."""
    with app.app_context(), runtime().sessions() as session:
        row = store.get_order(session, order_id)
        assert row is not None
        return row.state, row.resolved_by, row.resolution_note, len(store.history(session, order_id))


def payments_fingerprint(app: Flask, slug: str = "lyngby") -> tuple[tuple[str, str], ...]:
    """Every order of the library with its state: changes when any of them is resolved."""
    with app.app_context(), runtime().sessions() as session:
        query = select(PaymentOrderRow.order_id, PaymentOrderRow.state).where(PaymentOrderRow.library_slug == slug)
        return tuple(sorted((order_id, state) for order_id, state in session.execute(query).all()))
