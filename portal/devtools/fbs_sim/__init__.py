"""An FBS simulator: a separate WSGI app speaking FBS's external API (direct mode).

`make run` serves it on DEV_FBS_PORT; tests start it on a free loopback port and
steer it through its `SimState`.
"""

from portal.devtools.fbs_sim.app import create_fbs_sim_app
from portal.devtools.fbs_sim.server import sim_state, start_fbs_sim, stop_fbs_sim
from portal.devtools.fbs_sim.state import SimState

__all__ = ["SimState", "create_fbs_sim_app", "sim_state", "start_fbs_sim", "stop_fbs_sim"]
