"""Starts the dev identity provider and the FBS simulator for the demo (`make run`).

They run in daemon threads on fixed loopback ports. If a port is taken (another
worker of the same demo already serves it), that service is left to it.
"""
from __future__ import annotations

import logging
import sys
import threading

from portal.config import DEV_FBS_PORT, DEV_IDP_ISSUER, DEV_IDP_PORT
from portal.devtools.demo_data import CITIZENS

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
    from portal.devtools.fbs_sim import start_fbs_sim
    from portal.devtools.idp import portal_dev_client, start_dev_idp

    client = portal_dev_client(PORTAL_URL)
    started = [
        _try_start("dev identity provider", lambda: start_dev_idp("127.0.0.1", DEV_IDP_PORT, DEV_IDP_ISSUER, [client])),
        _try_start("FBS simulator", lambda: start_fbs_sim("127.0.0.1", DEV_FBS_PORT)),
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
    lines += [f"  Dev identity provider: {DEV_IDP_ISSUER}   FBS simulator: http://127.0.0.1:{DEV_FBS_PORT}", ""]
    return "\n".join(lines)
