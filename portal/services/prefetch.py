"""Fetch a borrower's data when sign-in completes, so their first view finds it cached.

Called in the sign-in callback's request (`start_prefetch`). Two halves, on purpose:

1. In the request, synchronously: the patron look-up (direct mode: by CPR number; DBC's adapter:
   the token's patron answer). Its answer — the patron id — belongs in the borrower's session
   (`PatronMemo`), which only a request can write; a thread of its own has no request, and the
   shared cache may not hold it (its key would be the CPR number or the token). So sign-in waits
   one round trip (1 × L) for it. The look-up's answer carries the patron too, which goes into the
   cache under the patron id (`CachedFbs.find_patron_id`): the first view makes no patron call.
2. In the background, after the callback has answered: FBS's fees, the debtor's claims and the
   fees' titles, into the cache (keyed by agency and patron id, never by CPR number). The browser
   follows the callback's redirect at once; the first view then finds the answers in the cache,
   or joins the calls still in flight (`single_flight`, across worker processes through Redis),
   so it waits at most the rest of one round trip and makes no upstream call of its own.

Prefetching is a courtesy: any failure is logged and forgotten, and the view asks again.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future

from portal.libraries.library import Library
from portal.providers.errors import UpstreamError
from portal.providers.http import upstream_budget
from portal.providers.upstreams import Upstreams
from portal.services.background import in_background
from portal.services.debts import Borrower, MitIdRequired, PatronMemo, find_patron

log = logging.getLogger(__name__)


def start_prefetch(
    upstreams: Upstreams, library: Library | None, borrower: Borrower, memo: PatronMemo
) -> Future[None] | None:
    """Look the borrower up at `library` now (remembered in `memo`), then fill the cache in the background.

    Returns the background fetch (tests wait on it), or None when there is nothing to fetch: no
    library, not a borrower there, no CPR number where FBS needs one, or the look-up failed.
    Never raises for an upstream: sign-in must not fail because FBS is slow to tell us the debts.
    """
    if library is None:
        return None
    # The page's budget bounds the look-up too: a stuck FBS delays sign-in by that much at most.
    with upstream_budget(upstreams.page_budget):
        try:
            found = find_patron(upstreams, library, borrower, memo)
        except MitIdRequired:
            return None
        except UpstreamError as exc:
            log.warning("library=%s prefetch: patron look-up failed, the view will ask again: %s", library.slug, exc)
            return None
        if found is None:
            return None
        fbs, patron_id, _ = found
        debtor = upstreams.debtor(library.agency_id)
        fbi = upstreams.fbi()
        cpr = borrower.cpr

        def fetch() -> None:
            try:
                # The debtor's call beside FBS's, as on the page; both end with the same budget.
                claims = in_background(lambda: debtor.claims(patron_id, cpr)) if debtor is not None and cpr else None
                fees = fbs.fees(patron_id)
                record_ids = [m.record_id for f in fees for m in f.materials if m.record_id]
                if fbi is not None and record_ids:
                    fbi.works(record_ids)
                if claims is not None:
                    claims.result()
            except Exception as exc:
                # The view asks again and says what is wrong; nothing to show here.
                log.warning("library=%s prefetch failed, the view will ask again: %s", library.slug, exc)

        # Started inside the budget: the thread's calls end by it (a context variable, copied).
        return in_background(fetch)
