"""The Adgangsplatformen simulator's userinfo lists the agency a token was issued for first, so the
FBS adapter simulator reads the borrower at the library they signed in at (as DBC's adapter does)."""

from __future__ import annotations

import pytest

from portal.devtools.adgangsplatformen.app import create_adgangsplatformen_app
from portal.devtools.adgangsplatformen.state import ApState
from portal.devtools.demo_data import library_user_by_id

ANNE = "ap-anne-5f3a"  # a borrower at Lyngby (717300) and Rødovre (717500)


@pytest.mark.parametrize(("agency", "first"), [("717500", "717500"), ("717300", "717300"), (None, "717300")])
def test_userinfo_names_the_sign_in_agency_first(agency: str | None, first: str) -> None:
    state = ApState()
    user = library_user_by_id(ANNE)
    assert user is not None
    token = state.issue_token(state.take_code(state.issue_code("c", "https://x/cb", user, agency)))  # type: ignore[arg-type]
    answer = (
        create_adgangsplatformen_app(state).test_client().get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    )
    agencies = [entry["agencyId"] for entry in answer.get_json()["attributes"]["agencies"]]
    assert agencies[0] == first and sorted(agencies) == ["717300", "717500"]
