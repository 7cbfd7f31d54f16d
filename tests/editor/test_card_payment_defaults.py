"""The editor's form shows the defaults citizens get: card payment promised only where the library takes it."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape
from pathlib import Path

from flask import Flask

from portal.devtools import nexi_sim
from portal.devtools.idp import DevIdp
from tests.editor.helpers import LONE, EditorBrowser
from tests.payments.conftest import NEXI_KEY_ENV, libraries_with_card_payment

CARD_PROMISE = "betalingskort direkte her på siden"


def edit_page(app: Flask, slug: str) -> str:
    browser = EditorBrowser(app)
    assert browser.editor_login(LONE).status_code == 302
    response = browser.get(f"/editor/{slug}/")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def test_a_card_paying_library_sees_the_card_defaults(
    make_portal: Callable[..., Flask], idp: DevIdp, tmp_path: Path
) -> None:
    card = make_portal(
        idp.issuer,
        PORTAL_LIBRARIES_FILE=str(libraries_with_card_payment(tmp_path)),
        PORTAL_NEXI_BASE_URL="http://127.0.0.1:9",
        PORTAL_QUEUE_WORKER="external",
        **{NEXI_KEY_ENV: nexi_sim.DEV_NEXI_SECRET_KEY},
    )
    assert CARD_PROMISE in edit_page(card, "lyngby")
    # The same library where the deployment has no gateway: no promise.
    assert CARD_PROMISE not in edit_page(make_portal(idp.issuer), "lyngby")
