"""A debtor simulator: a separate WSGI app speaking the debtor-status API (docs/debtor-api.yaml).

`make run` serves it on DEV_DEBTOR_PORT; tests start it on a free loopback port and
steer it through its `SimState`. `Rendezvous` makes it and the FBS simulator answer
only once both were called, which proves the portal calls them concurrently.
"""

from portal.devtools.debtor_sim.app import CLAIMS_RULE, create_debtor_sim_app
from portal.devtools.debtor_sim.rendezvous import Rendezvous
from portal.devtools.debtor_sim.server import debtor_sim_state, start_debtor_sim, stop_debtor_sim
from portal.devtools.debtor_sim.state import SimState

__all__ = [
    "CLAIMS_RULE",
    "Rendezvous",
    "SimState",
    "create_debtor_sim_app",
    "debtor_sim_state",
    "start_debtor_sim",
    "stop_debtor_sim",
]
