"""The OpenAPI document and the code say the same: paths, fields and statuses the client relies on."""

from __future__ import annotations

from pathlib import Path

from portal.config import PROJECT_ROOT
from portal.devtools.debtor_sim import CLAIMS_RULE
from portal.domain.claims import ClaimStatus
from portal.providers.debtor import CLAIMS_PATH

DOC = (PROJECT_ROOT / "docs" / "debtor-api.yaml").read_text(encoding="utf-8")
PARSER = (Path(__file__).resolve().parents[2] / "portal" / "providers" / "debtor_parse.py").read_text()


def test_the_path_of_client_simulator_and_document_agree() -> None:
    assert CLAIMS_PATH.replace("{agency}", "{agencyId}") + ":" in DOC
    assert CLAIMS_RULE.replace("<agency>", "{agencyId}") == CLAIMS_PATH.replace("{agency}", "{agencyId}")


def test_every_field_the_parser_reads_is_documented() -> None:
    fields = [
        "agencyId",
        "claims",
        "claimId",
        "feeId",
        "originClaimId",
        "type",
        "description",
        "createdDate",
        "originalAmount",
        "outstandingAmount",
        "status",
        "dueDate",
        "paidAmount",
        "paidDate",
        "cpr",
    ]
    for field in fields:
        assert f'"{field}"' in PARSER or field == "cpr", field
        assert f"{field}:" in DOC, field


def test_the_statuses_are_documented() -> None:
    enum = "enum: [" + ", ".join(status.value for status in ClaimStatus) + "]"
    assert enum in DOC


def test_the_cpr_number_is_in_the_body() -> None:
    assert "requestBody:" in DOC and "in: query" not in DOC
    assert DOC.count("in: path") == 1 and "name: agencyId" in DOC
