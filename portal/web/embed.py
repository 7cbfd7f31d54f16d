"""The citizen page inside a library's website: /<slug>/embed, the "du skylder" summary, the theme.

The CMS includes static/js/embed.js, which puts /<slug>/embed in an iframe with the CMS page's
language (`lang`), its address (`parent`) and the library's colours and font (docs/embedding.md).
The pages are the citizen page's own templates in a frame without the portal's header and footer
(templates/embed/frame.html); only the embed answers may be framed, and only by the library's
`embed_origins` (`security.embed_policy`). Sign-in, sign-out and card payment leave the iframe for
the top level, and come back to `parent` when it is an address on one of those sites.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, make_response, render_template, request, url_for

from portal import clock, db
from portal.auth import citizen_session
from portal.i18n import LANGUAGES, current_language
from portal.libraries import disagreements
from portal.libraries.library import Library
from portal.services.debts import record_disagreements
from portal.web.citizen import PAGES
from portal.web.embed_params import origin_of, parent_url, theme_css, theme_values
from portal.web.libraries import library_or_404, rendered_texts
from portal.web.outcome import Outcome, Refused, debts_or_outcome
from portal.web.overview_page import overview_context
from portal.web.payments import card_payment_offered
from portal.web.security import embed_policy
from portal.web.urls import public_url

bp = Blueprint("embed", __name__)

FRAME = "embed/frame.html"  # templates/overview/_layout.html extends it instead of base.html


@dataclass(frozen=True)
class Embed:
    """What the frame needs: the checked CMS address and theme, and links that keep them."""

    slug: str
    endpoint: str
    parent: str | None  # the CMS page, only when on one of the library's sites
    theme: Mapping[str, str] = field(default_factory=dict)

    @property
    def parent_origin(self) -> str | None:
        """Where embedded.js may post the page's height (and nowhere else)."""
        return origin_of(self.parent) if self.parent else None

    def _kept(self) -> dict[str, Any]:
        return {**({"parent": self.parent} if self.parent else {}), **self.theme}

    def _back(self) -> dict[str, Any]:
        return {"return_to": self.parent} if self.parent else {}

    def language_url(self, code: str) -> str:
        """This embed page in another language, keeping the CMS address and the theme."""
        if code not in LANGUAGES:
            raise ValueError(code)
        return url_for(self.endpoint, slug=self.slug, lang=code, **self._kept())

    @property
    def theme_url(self) -> str | None:
        theme: dict[str, Any] = dict(self.theme)
        return url_for("embed.theme", slug=self.slug, **theme) if theme else None

    @property
    def login_url(self) -> str:
        """Sign-in at the top level, back to the CMS page afterwards (auth's `return_to`)."""
        return url_for("auth.login", slug=self.slug, **self._back())

    @property
    def logout_url(self) -> str:
        return url_for("auth.logout", slug=self.slug, **self._back())

    @property
    def cross_site(self) -> bool:
        """Whether the library's website is another site (PORTAL_EMBED_CROSS_SITE): the browser may
        then keep the session from the iframe, and the signed-out pages say what to do about it."""
        return bool(current_app.config["PORTAL_SETTINGS"].embed_cross_site)

    @property
    def full_page_url(self) -> str:
        """The portal's own page, at the top level, with a link back to the CMS page (`return_to`)."""
        return url_for("citizen.overview", slug=self.slug, **self._back())


def embed_of(library: Library, endpoint: str) -> Embed:
    return Embed(
        library.slug,
        endpoint,
        parent_url(request.args.get("parent"), library.embed_origins),
        theme_values(request.args),
    )


def _answer(library: Library, page: str, status: int = 200) -> Response:
    response = make_response(page, status)
    response.headers["Content-Security-Policy"] = embed_policy(library.embed_origins)
    return response


def framed_error(library: Library, code: int, title: str) -> Response:
    """An error of an embed answer, in the frame and framed by the library's sites alone.

    Under the portal's own policy (frame-ancestors 'none') the browser would show the CMS page's
    visitor an empty frame instead.
    """
    embed = embed_of(library, request.endpoint or "embed.page")
    context: dict[str, Any] = {"code": code, "title": title, "library": library, "embed": embed}
    return _answer(library, render_template("errors/http_error.html", embed_frame=FRAME, **context), code)


# The embedded page's answer to each outcome: the citizen page's, in the frame, but for these.
_PAGE_TEMPLATES: dict[Outcome, tuple[str, int]] = {
    **PAGES,
    # Cross-site, a browser blocking third-party cookies never sends the session inside the
    # iframe: the page then also offers the portal's own page (docs/embedding.md).
    Outcome.SIGNED_OUT: ("embed/signed_out.html", 200),
    # Never "nothing owed": the debts cannot be looked up without MitID here; say so.
    Outcome.MITID_REQUIRED: ("embed/mitid_required.html", 200),
}
# The summary's: its own states, where it has them, else the embedded page's.
_SUMMARY_STATES: dict[Outcome, tuple[str, int] | None] = {
    Outcome.SIGNED_OUT: ("signed_out", 200),
    Outcome.MITID_REQUIRED: None,
    Outcome.SIGN_IN_AGAIN: None,
    Outcome.UNAVAILABLE: ("unavailable", 503),
    Outcome.NOT_BORROWER: ("not_borrower", 200),
}


def _refused_page(library: Library, embed: Embed, refused: Refused) -> Response:
    page, status = _PAGE_TEMPLATES[refused.outcome]
    context: dict[str, Any] = {"library": library, "citizen": citizen_session.current_citizen(), "embed": embed}
    return _answer(library, render_template(page, embed_frame=FRAME, **context), status)


@bp.app_template_global()
def embed_snippet(slug: str, language: str = "da") -> str:
    """The snippet a library pastes into its CMS (docs/embedding.md), at the portal's public address."""
    page = public_url("citizen.overview", slug=slug).rstrip("/")
    script = public_url("static", filename="js/embed.js")
    return f'<div data-gebyrportal="{page}" data-lang="{language}"></div>\n<script src="{script}" defer></script>'


@bp.get("/<slug:slug>/embed")
def page(slug: str) -> Response:
    """The citizen page for the iframe: the sign-in button, or the overview."""
    library = library_or_404(slug)
    embed = embed_of(library, "embed.page")
    result = debts_or_outcome(library, "embedded overview")
    if isinstance(result, Refused):
        return _refused_page(library, embed, result)
    if not result.stale:
        record_disagreements(db.session, library, result.debts.overview, disagreements.database_key(db.engine()))
    overview = overview_context(library, result.debts, as_of=result.as_of)
    if overview["card_payment"] is not None:
        # The form opens Nexi's page at the top level and carries the way back to the CMS page.
        overview["card_payment"] = {**overview["card_payment"], "embedded": True, "parent": embed.parent}
    return _answer(library, render_template("overview/overview.html", **overview, embed=embed, embed_frame=FRAME))


@bp.get("/<slug:slug>/embed/summary")
def summary(slug: str) -> Response:
    """ "Du skylder": the total and where each part is paid, for the CMS's own pages."""
    library = library_or_404(slug)
    embed = embed_of(library, "embed.summary")
    result = debts_or_outcome(library, "embedded summary")
    if isinstance(result, Refused):
        state = _SUMMARY_STATES[result.outcome]
        if state is None:
            return _refused_page(library, embed, result)
        context = {"library": library, "citizen": citizen_session.current_citizen(), "embed": embed}
        page = render_template("embed/summary.html", state=state[0], debts=None, as_of=None, **context)
        return _answer(library, page, state[1])
    debts = result.debts
    texts = rendered_texts(library, current_language(), card_payment=card_payment_offered(library))
    return _answer(
        library,
        render_template(
            "embed/summary.html",
            state="complete" if debts.complete else "incomplete",
            overview=debts.overview,
            texts=texts,
            library=library,
            citizen=citizen_session.current_citizen(),
            embed=embed,
            debts=debts,
            # FBS failed: these are the figures shown then (portal.services.stale), marked.
            as_of=clock.local(result.as_of) if result.as_of is not None else None,
            today=clock.today(),
        ),
    )


@bp.get("/<slug:slug>/embed/theme.css")
def theme(slug: str) -> Response:
    """The library's colours and font as CSS custom properties: a stylesheet, so the strict CSP
    (style-src 'self', no inline style) holds; only checked values are written."""
    library_or_404(slug)
    response = make_response(theme_css(theme_values(request.args)))
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    return response
