"""The "Betal med kort" form may end on Nexi's hosted payment page: its origin is a CSP form target."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.providers.nexi import LIVE_BASE_URL, TEST_BASE_URL, checkout_origin
from tests.payments.conftest import World
from tests.support.settings import test_settings


@pytest.mark.parametrize(
    ("api", "page"),
    [
        (LIVE_BASE_URL, "https://checkout.dibspayment.eu"),
        (TEST_BASE_URL + "/", "https://test.checkout.dibspayment.eu"),
        ("http://127.0.0.1:5004", "http://127.0.0.1:5004"),  # the simulator serves its own page
    ],
)
def test_the_hosted_page_origin_of_each_api(api: str, page: str) -> None:
    assert checkout_origin(api) == page


def form_action(csp: str) -> list[str]:
    directive = next(part.strip() for part in csp.split(";") if part.strip().startswith("form-action"))
    return directive.split()[1:]


def test_with_card_payment_the_payment_page_is_a_form_target(world: World) -> None:
    response = world.app.test_client().get("/")
    targets = form_action(response.headers["Content-Security-Policy"])
    assert checkout_origin(world.rt.settings.nexi_base_url or "") in targets
    assert "'self'" in targets


def test_without_card_payment_only_the_portal_and_the_idp_are() -> None:
    app = create_app(test_settings(PORTAL_DATABASE_URL="sqlite:///:memory:"))
    targets = form_action(app.test_client().get("/").headers["Content-Security-Policy"])
    assert targets == ["'self'", "http://127.0.0.1:9"]
