"""Example debts for a library's page preview (the editor), built from the demo data without HTTP.

Always the demo's richest borrower, Anne Andersen at Lyngby: both sections, a reminder fee
added by the municipality, a payment awaiting registration, a fee not yet in Mit
Betalingsoverblik and a recent payment — so an editor sees every text and state of the page.
Her fees keep their own FBS flags, whatever the previewed library's cut-off date is.
"""

from __future__ import annotations

import json

from portal import clock
from portal.devtools import demo_data
from portal.domain.fees import Patron
from portal.domain.merge import merge
from portal.libraries.library import Library
from portal.providers.debtor_parse import parse_claims
from portal.providers.fbs_parse import parse_fees
from portal.services.debts import CitizenDebts, ProviderStatus

DEMO_PATRON_ID = 1001
DEMO_NAME = "Anne Andersen"


def demo_debts(library: Library) -> CitizenDebts:
    """The example borrower's debts as `citizen_debts` would return them for `library`."""
    today = clock.today()
    # Through the real parsers, so the preview shows exactly what the live page would.
    fees = parse_fees(json.dumps(demo_data.FEES[DEMO_PATRON_ID]))
    raw_claims = {"agencyId": library.agency_id, "claims": demo_data.debtor_claims(today)[DEMO_PATRON_ID]}
    claims = parse_claims(json.dumps(raw_claims), library.agency_id)
    overview = merge(fees, claims, library.cutoff_date, today)
    return CitizenDebts(Patron(DEMO_PATRON_ID, DEMO_NAME), overview, ProviderStatus.OK)
