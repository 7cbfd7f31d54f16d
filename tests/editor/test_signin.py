"""The editor's own OpenID Connect sign-in: as strict as the citizens', and independent of it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from portal.devtools.idp import DevIdp, start_dev_idp
from portal.devtools.idp.grants import IdToken
from portal.editor.identity import libraries_claim
from tests.auth.helpers import CLIENT_ID, PORTAL_URL, query, with_query
from tests.editor.helpers import ADA, ANNE, EDITOR_CLIENT_ID, LONE, NIELS, RASMUS, EditorBrowser, idp_clients, page_text

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def refusal(page: str) -> str | None:
    found = re.search(r'data-reason="([a-z_]+)"', page)
    return found[1] if found else None


@pytest.mark.parametrize(
    "sub,administrator,libraries",
    [
        (LONE, False, ("lyngby",)),
        (RASMUS, False, ("rodovre",)),
        (ADA, True, ()),
        (NIELS, False, ()),
    ],
)
def test_sign_in_keeps_the_editor_server_side(
    browser_for: Callable[..., EditorBrowser], idp: DevIdp, sub: str, administrator: bool, libraries: tuple[str, ...]
) -> None:
    browser = browser_for()
    browser.start_editor_login()
    before = browser.session_id()
    response = browser.get(browser.choose(browser.start_editor_login(), {"sub": sub}))

    assert response.status_code == 302 and response.headers["Location"] == "/editor/"
    stored = browser.stored_data()["editor"]
    assert (stored["sub"], stored["issuer"]) == (sub, idp.issuer)
    assert (stored["administrator"], tuple(stored["libraries"])) == (administrator, libraries)
    session_id = browser.session_id()
    assert session_id != before and SESSION_ID.fullmatch(str(session_id))  # renewed at sign-in
    assert browser.stored(before) is None


def test_the_authorization_request_uses_pkce_state_and_nonce(
    browser_for: Callable[..., EditorBrowser], idp: DevIdp
) -> None:
    params = query(browser_for().start_editor_login())
    assert params["client_id"] == EDITOR_CLIENT_ID
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["state"] and params["nonce"]
    assert params["redirect_uri"] == f"{PORTAL_URL}/editor/callback"
    assert params["scope"] == "openid"


def test_a_forged_state_is_refused(browser_for: Callable[..., EditorBrowser]) -> None:
    browser = browser_for()
    url = browser.choose(browser.start_editor_login(), {"sub": LONE})
    response = browser.get(with_query(url, state="forged-" + secrets.token_urlsafe(8)))
    assert response.status_code == 400 and refusal(response.get_data(as_text=True)) == "state"
    assert "editor" not in (browser.stored() or {})


def test_a_callback_cannot_be_replayed(browser_for: Callable[..., EditorBrowser]) -> None:
    browser = browser_for()
    url = browser.choose(browser.start_editor_login(), {"sub": LONE})
    assert browser.get(url).status_code == 302
    browser.send("/editor/logout")
    assert browser.get(url).status_code == 400


def test_cancel_at_the_idp(browser_for: Callable[..., EditorBrowser]) -> None:
    browser = browser_for()
    url = browser.choose(browser.start_editor_login(), {"cancel": "1"})
    response = browser.get(url)
    assert response.status_code == 400 and refusal(response.get_data(as_text=True)) == "cancelled"
    assert "editor" not in (browser.stored() or {})


def test_a_citizen_cannot_be_chosen_at_the_editor_client(browser_for: Callable[..., EditorBrowser]) -> None:
    browser = browser_for()
    authorize = browser.start_editor_login()
    page = browser.http.get(authorize).text
    assert "Vælg en demo-redaktør" in page and "Log ind som Lone Lyngby" in page and "Anne Andersen" not in page
    response = browser.get(browser.choose(authorize, {"sub": ANNE}))  # not a person this client signs in
    assert response.status_code == 400 and refusal(response.get_data(as_text=True)) == "cancelled"


def _citizens_audience(self: IdToken, client: Any) -> dict[str, Any]:
    # azp names the editor client, so authlib's own azp check passes: only the aud check can refuse.
    return {"iss": self.state.issuer, "aud": CLIENT_ID, "azp": EDITOR_CLIENT_ID}


def test_an_id_token_for_the_citizens_client_is_refused(
    browser_for: Callable[..., EditorBrowser], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(IdToken, "get_client_claims", _citizens_audience)
    browser = browser_for()
    response = browser.get(browser.choose(browser.start_editor_login(), {"sub": ADA}))
    assert response.status_code == 502 and refusal(response.get_data(as_text=True)) == "token_invalid"
    assert "editor" not in (browser.stored() or {})


def test_a_wrong_pkce_verifier_is_refused(browser_for: Callable[..., EditorBrowser]) -> None:
    browser = browser_for()
    url = browser.choose(browser.start_editor_login(), {"sub": ADA})
    state = query(url)["state"]
    browser.edit_session(
        lambda data: data[f"_state_editor_{state}"]["data"].update(code_verifier=secrets.token_urlsafe(48))
    )
    response = browser.get(url)
    assert response.status_code == 502 and refusal(response.get_data(as_text=True)) == "token_refused"


def test_a_wrong_nonce_is_refused(browser_for: Callable[..., EditorBrowser]) -> None:
    browser = browser_for()
    url = browser.choose(browser.start_editor_login(), {"sub": ADA})
    state = query(url)["state"]
    browser.edit_session(lambda data: data[f"_state_editor_{state}"]["data"].update(nonce="not-the-nonce"))
    response = browser.get(url)
    assert response.status_code == 502 and refusal(response.get_data(as_text=True)) == "token_invalid"


CLAIM = "https://schemas.example.org/claims/libraries"


@pytest.mark.parametrize("in_id_token", [True, False], ids=["id-token", "userinfo"])
def test_the_libraries_claim_name_is_configurable(make_portal: Callable[..., Flask], in_id_token: bool) -> None:
    idp = start_dev_idp("127.0.0.1", 0, None, idp_clients(), editor_claim=CLAIM, editor_claim_in_id_token=in_id_token)
    try:
        browser = EditorBrowser(make_portal(idp.issuer, PORTAL_EDITOR_LIBRARIES_CLAIM=CLAIM))
        browser.editor_login(RASMUS)
        assert tuple(browser.stored_data()["editor"]["libraries"]) == ("rodovre",)
        assert browser.get("/editor/rodovre/").status_code == 200
        browser.close()
        # The portal looking for the default claim name finds nothing: no libraries.
        browser = EditorBrowser(make_portal(idp.issuer))
        browser.editor_login(RASMUS)
        assert tuple(browser.stored_data()["editor"]["libraries"]) == ()
        assert browser.get("/editor/rodovre/").status_code == 404
        browser.close()
    finally:
        idp.shutdown()


@pytest.mark.parametrize(
    "value,expected",
    [
        ("*", (True, ())),
        (["*"], (True, ())),
        (["lyngby", "rodovre", "lyngby"], (False, ("lyngby", "rodovre"))),
        ([], (False, ())),
        (None, (False, ())),
        ("lyngby", (False, ())),  # a single string is not a list: nothing
        ("lyngby,rodovre", (False, ())),
        (["lyngby", 7, None, ""], (False, ("lyngby",))),
        (7, (False, ())),
        ({"lyngby": True}, (False, ())),
    ],
)
def test_reading_the_libraries_claim(value: object, expected: tuple[bool, tuple[str, ...]]) -> None:
    assert libraries_claim(value) == expected


@pytest.mark.parametrize(
    "asked,landed",
    [
        ("/editor/lyngby/history", "/editor/lyngby/history"),
        ("//evil.example/editor/", "/editor/"),
        ("https://evil.example/editor/", "/editor/"),
        ("/editor//evil.example", "/editor/"),
        ("/lyngby/", "/editor/"),
        ("/editor/lyngby/?x=1", "/editor/"),
    ],
)
def test_back_to_the_page_asked_for_but_never_elsewhere(
    browser_for: Callable[..., EditorBrowser], asked: str, landed: str
) -> None:
    browser = browser_for()
    assert browser.editor_login(LONE, next_path=asked).headers["Location"] == landed


def test_a_signed_out_get_is_sent_to_sign_in_and_back(browser_for: Callable[..., EditorBrowser]) -> None:
    browser = browser_for()
    response = browser.get("/editor/lyngby/history")
    assert response.status_code == 302 and response.headers["Location"] == "/editor/login?next=/editor/lyngby/history"
    callback = browser.choose(browser.start_editor_login("/editor/lyngby/history"), {"sub": LONE})
    assert browser.get(callback).headers["Location"] == "/editor/lyngby/history"


def test_sign_in_never_starts_inside_a_frame(browser_for: Callable[..., EditorBrowser]) -> None:
    browser = browser_for()
    response = browser.portal.get("/editor/login", headers={"Sec-Fetch-Dest": "iframe"})
    assert response.status_code == 403 and "Location" not in response.headers
    assert 'target="_top"' in response.get_data(as_text=True)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    page = browser.get("/editor/").get_data(as_text=True)
    assert '<a class="button button-primary" href="/editor/login" target="_top">' in page


def test_editor_logout_ends_it_at_the_idp_and_keeps_the_citizen(
    browser_for: Callable[..., EditorBrowser], idp: DevIdp
) -> None:
    browser = browser_for()
    assert browser.login(ANNE).status_code == 302  # a citizen with MitID...
    browser.editor_login(LONE)  # ...and an editor, same browser
    stored = browser.stored_data()
    assert stored["citizen"]["sub"] == ANNE and stored["editor"]["sub"] == LONE
    old_id = browser.session_id()

    response = browser.send("/editor/logout")

    location = response.headers["Location"]
    assert response.status_code == 302 and location.startswith(f"{idp.issuer}/end_session?")
    params = query(location)
    assert params["post_logout_redirect_uri"] == f"{PORTAL_URL}/editor/"
    assert params["client_id"] == EDITOR_CLIENT_ID and params["id_token_hint"]
    back = browser.http.get(location)  # the IdP accepts and sends back
    assert back.status_code == 302 and back.headers["location"] == f"{PORTAL_URL}/editor/"
    after = browser.stored_data()
    assert "editor" not in after and after["citizen"]["sub"] == ANNE
    assert browser.session_id() != old_id and browser.stored(old_id) is None
    assert browser.get("/editor/lyngby/").status_code == 302  # no longer an editor


def test_citizen_logout_and_login_keep_the_editor(browser_for: Callable[..., EditorBrowser]) -> None:
    browser = browser_for(LONE)
    assert browser.login(ANNE).status_code == 302
    assert browser.stored_data()["editor"]["sub"] == LONE  # the citizen's login kept the editor
    browser.post("/lyngby/logout")
    stored = browser.stored()
    assert stored is not None and "citizen" not in stored and stored["editor"]["sub"] == LONE
    assert browser.get("/editor/lyngby/").status_code == 200


def test_editor_logout_alone_clears_the_session(browser_for: Callable[..., EditorBrowser]) -> None:
    browser = browser_for(LONE)
    old_id = browser.session_id()
    browser.send("/editor/logout")
    assert browser.session_id() is None and browser.stored(old_id) is None


def test_editor_pages_are_never_framed_nor_cached(browser_for: Callable[..., EditorBrowser], idp: DevIdp) -> None:
    browser = browser_for(LONE)
    for path in ("/editor/", "/editor/lyngby/", "/editor/lyngby/preview/en", "/editor/lyngby/history"):
        response = browser.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert f"form-action 'self' {idp.issuer}" in csp  # logout redirects to the editor IdP
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        page = response.get_data(as_text=True)
        assert "<script>" not in page and "style=" not in page


def test_the_area_is_off_without_editor_settings(make_portal: Callable[..., Flask], idp: DevIdp) -> None:
    app = make_portal(
        idp.issuer, PORTAL_EDITOR_OIDC_ISSUER="", PORTAL_EDITOR_OIDC_CLIENT_ID="", PORTAL_EDITOR_OIDC_CLIENT_SECRET=""
    )
    client = app.test_client()
    assert client.get("/editor/").status_code == 404
    assert client.get("/editor/login").status_code == 404


def test_the_sign_in_page_is_danish_by_default(portal: Flask) -> None:
    response = portal.test_client().get("/editor/")
    text = page_text(response)
    assert response.status_code == 200 and '<html lang="da">' in response.get_data(as_text=True)
    assert "Log ind som redaktør" in text and "Redigering af bibliotekernes sider" in text
