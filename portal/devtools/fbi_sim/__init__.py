"""An FBI API simulator: a separate WSGI app speaking the slice of DBC's bibliographic GraphQL the portal uses.

`make run` serves it on DEV_FBI_PORT; tests start it on a free loopback port and steer it
through its `SimState` (fail next, delay, garbage; request counts).
"""

from portal.devtools.fbi_sim.app import GRAPHQL_RULE, create_fbi_sim_app
from portal.devtools.fbi_sim.server import fbi_sim_state, start_fbi_sim, stop_fbi_sim
from portal.devtools.fbi_sim.state import DEMO_WORKS, SimState

__all__ = [
    "DEMO_WORKS",
    "GRAPHQL_RULE",
    "SimState",
    "create_fbi_sim_app",
    "fbi_sim_state",
    "start_fbi_sim",
    "stop_fbi_sim",
]
