"""A Nexi Checkout simulator: a separate WSGI app speaking Payment API v1, with a hosted payment page.

Tests start it on a free loopback port and steer it through its `SimState`: retrieval limit,
expired reservation, hard decline, faults, and webhook delivery (duplicated, out of order, held).
"""

from portal.devtools.nexi_sim.app import PAYMENTS_RULE, create_nexi_sim_app
from portal.devtools.nexi_sim.server import DEV_NEXI_PORT, nexi_sim_state, start_nexi_sim, stop_nexi_sim
from portal.devtools.nexi_sim.state import DEV_NEXI_SECRET_KEY, Delivery, Payment, SimState

__all__ = [
    "DEV_NEXI_PORT",
    "DEV_NEXI_SECRET_KEY",
    "PAYMENTS_RULE",
    "Delivery",
    "Payment",
    "SimState",
    "create_nexi_sim_app",
    "nexi_sim_state",
    "start_nexi_sim",
    "stop_nexi_sim",
]
