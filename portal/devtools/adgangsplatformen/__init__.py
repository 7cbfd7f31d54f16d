"""An Adgangsplatformen (login.bib.dk) simulator: a separate WSGI app for `make run` and the tests.

    from portal.devtools.adgangsplatformen import ApState, portal_client, create_adgangsplatformen_app

Its users are `portal.devtools.demo_data.LIBRARY_LOGIN_USERS`: one with a CPR number (MitID
through DBC), one with library card and PIN and no CPR number, one registered only at another
agency. `GET /userinfo` with a user token as Bearer is also how other simulators (DBC's FBS
adapter) find the borrower behind a token.
"""

from portal.devtools.adgangsplatformen.app import attributes, create_adgangsplatformen_app
from portal.devtools.adgangsplatformen.server import (
    portal_client,
    sim_state,
    start_adgangsplatformen_sim,
    stop_adgangsplatformen_sim,
)
from portal.devtools.adgangsplatformen.state import ApClient, ApState, Token

__all__ = [
    "ApClient",
    "ApState",
    "Token",
    "attributes",
    "create_adgangsplatformen_app",
    "portal_client",
    "sim_state",
    "start_adgangsplatformen_sim",
    "stop_adgangsplatformen_sim",
]
