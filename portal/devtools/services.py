"""Starts the dev identity provider, the FBS simulator and the debtor simulator for the demo (`make run`).

They run in daemon threads on fixed loopback ports. If a port is taken (another
worker of the same demo already serves it), that service is left to it.
"""
from __future__ import annotations

import logging
import sys
import threading

from portal.config import DEV_DEBTOR_BASE_URL, DEV_DEBTOR_PORT, DEV_FBS_PORT, DEV_IDP_ISSUER, DEV_IDP_PORT
from portal.devtools.demo_data import CITIZENS
from portal.devtools.idp.editors import EDITORS

log = logging.getLogger(__name__)
PORTAL_URL = "http://127.0.0.1:5000"
_started = threading.Lock()
_done = False


def start_dev_services() -> None:
    """Start the dev IdP and FBS simulator on their loopback ports, once per process."""
    global _done
    with _started:
        if _done:
            return
        _done = True
    from portal.devtools.debtor_sim import start_debtor_sim
    from portal.devtools.fbs_sim import start_fbs_sim
    from portal.devtools.idp import portal_dev_client, portal_editor_dev_client, start_dev_idp

    # One dev IdP plays both MitID for citizens and the organisation's IdP for the editor area.
    clients = [portal_dev_client(PORTAL_URL), portal_editor_dev_client(PORTAL_URL)]
    started = [
        _try_start("dev identity provider", lambda: start_dev_idp("127.0.0.1", DEV_IDP_PORT, DEV_IDP_ISSUER, clients)),
        _try_start("FBS simulator", lambda: start_fbs_sim("127.0.0.1", DEV_FBS_PORT)),
        _try_start("debtor simulator", lambda: start_debtor_sim("127.0.0.1", DEV_DEBTOR_PORT)),
    ]
    if all(started):
        print(banner(), file=sys.stderr, flush=True)


def _try_start(name: str, start) -> bool:  # type: ignore[no-untyped-def]
    try:
        start()
    except OSError as exc:  # port in use: another process of this demo serves it
        log.info("%s not started here (%s); assuming it already runs", name, exc)
        return False
    return True


def banner() -> str:
    """What `make run` prints: where to go and who to sign in as."""
    lines = [
        "",
        "Gebyrportal demo",
        f"  Open {PORTAL_URL}/lyngby/ (or {PORTAL_URL}/ for all demo libraries) and press 'Log ind'.",
        "  The dev identity provider then lets you pick one of these demo borrowers:",
    ]
    lines += [f"    - {c.name:<18} {c.description}" for c in CITIZENS]
    lines += [f"  Library editors: open {PORTAL_URL}/editor/ and sign in as one of these demo editors:"]
    lines += [f"    - {e.name:<18} {e.description}" for e in EDITORS]
    lines += [f"  Dev identity provider: {DEV_IDP_ISSUER}   FBS simulator: http://127.0.0.1:{DEV_FBS_PORT}",
              f"  Debtor simulator (Mit Betalingsoverblik status): {DEV_DEBTOR_BASE_URL}", ""]
    return "\n".join(lines)
