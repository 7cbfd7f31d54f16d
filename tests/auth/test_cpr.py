"""Where the CPR number comes from: the configured claim, in the ID token or else userinfo."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from portal.devtools.demo_data import DemoCitizen
from portal.devtools.idp import DevIdp
from portal.domain.cpr import normalise_cpr
from tests.auth.helpers import Browser, jwt_claims, refusal


def login(make_portal: Callable[..., Flask], idp: DevIdp, sub: str = "demo-anne", **env: str) -> Browser:
    visitor = Browser(make_portal(idp.issuer, **env))
    visitor.login(sub)
    return visitor


def test_cpr_only_in_userinfo(make_portal: Callable[..., Flask], start_idp: Callable[..., DevIdp]) -> None:
    visitor = login(make_portal, start_idp(cpr_in_id_token=False))
    citizen = visitor.stored_data()["citizen"]
    assert "cpr" not in jwt_claims(citizen["id_token"])  # so it came from userinfo
    assert citizen["cpr"] == "0101901111"
    # Without the CPR inside, the ID token may go back to the IdP as logout hint.
    location = visitor.post("/lyngby/logout").headers["Location"]
    assert "id_token_hint=" + citizen["id_token"] in location
    visitor.close()


def test_id_token_with_cpr_is_never_kept_for_a_url(
    make_portal: Callable[..., Flask], start_idp: Callable[..., DevIdp]
) -> None:
    visitor = login(make_portal, start_idp())
    assert visitor.stored_data()["citizen"]["id_token"] is None
    location = visitor.post("/lyngby/logout").headers["Location"]
    assert "id_token_hint" not in location and "0101901111" not in location
    visitor.close()


def test_missing_cpr_also_in_userinfo_is_refused(
    make_portal: Callable[..., Flask], start_idp: Callable[..., DevIdp]
) -> None:
    visitor = Browser(make_portal(start_idp(cpr_in_id_token=False).issuer))
    response = visitor.login("demo-frede")
    assert (response.status_code, refusal(response)) == (403, "no_cpr")
    visitor.close()


CLAIM = "dk:gov:saml:attribute:CprNumberIdentifier"


def test_custom_cpr_claim(make_portal: Callable[..., Flask], start_idp: Callable[..., DevIdp]) -> None:
    idp = start_idp(cpr_claim=CLAIM)
    visitor = login(make_portal, idp, PORTAL_OIDC_CPR_CLAIM=CLAIM)
    assert visitor.stored_data()["citizen"]["cpr"] == "0101901111"
    visitor.close()


def test_custom_cpr_claim_from_userinfo(make_portal: Callable[..., Flask], start_idp: Callable[..., DevIdp]) -> None:
    idp = start_idp(cpr_claim=CLAIM, cpr_in_id_token=False)
    visitor = login(make_portal, idp, PORTAL_OIDC_CPR_CLAIM=CLAIM)
    assert visitor.stored_data()["citizen"]["cpr"] == "0101901111"
    visitor.close()


def test_cpr_under_another_claim_than_configured_is_not_found(
    make_portal: Callable[..., Flask], start_idp: Callable[..., DevIdp]
) -> None:
    visitor = Browser(make_portal(start_idp(cpr_claim=CLAIM).issuer))  # portal looks for "cpr"
    response = visitor.login("demo-anne")
    assert (response.status_code, refusal(response)) == (403, "no_cpr")
    visitor.close()


@pytest.mark.parametrize("sent", ["010190-1111", " 0101901111 "])
def test_cpr_is_normalised(make_portal: Callable[..., Flask], start_idp: Callable[..., DevIdp], sent: str) -> None:
    idp = start_idp(citizens=[DemoCitizen("demo-x", "X", sent, "")])
    visitor = login(make_portal, idp, sub="demo-x")
    assert visitor.stored_data()["citizen"]["cpr"] == "0101901111"
    visitor.close()


@pytest.mark.parametrize(
    "value,expected",
    [
        ("0101901111", "0101901111"),
        ("010190-1111", "0101901111"),
        ("  010190-1111\n", "0101901111"),
        ("010190 1111", None),
        ("01019011111", None),
        ("010190111", None),
        ("01o1901111", None),
        ("０１０１９０１１１１", None),  # full-width digits are not CPR digits
        ("", None),
        (None, None),
        (101901111, None),  # a number has lost its leading zero
    ],
)
def test_normalise_cpr(value: object, expected: str | None) -> None:
    assert normalise_cpr(value) == expected
