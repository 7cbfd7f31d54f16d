"""Dev OpenID Connect provider: a separate Flask app the portal signs in against in
`make run` and in tests, over real HTTP and the portal's production code path.

    from portal.devtools.idp import start_dev_idp, portal_dev_client
    idp = start_dev_idp("127.0.0.1", 5001, "http://127.0.0.1:5001", [portal_dev_client()])

Clients registered with people="editors" sign in demo library editors instead of
citizens (the organisation's IdP of a real deployment; see editors.py).

Stricter than many real providers on purpose: PKCE (S256 only) and nonce are
required, codes are single-use and live 60 seconds, redirect URIs match exactly.
"""

from portal.devtools.idp.app import create_idp_app, idp_state
from portal.devtools.idp.editors import EDITORS, DemoEditor
from portal.devtools.idp.models import NSIS_SUBSTANTIAL, IdpClient, prefix_rule
from portal.devtools.idp.server import DevIdp, portal_dev_client, portal_editor_dev_client, start_dev_idp

__all__ = [
    "DevIdp",
    "DemoEditor",
    "EDITORS",
    "IdpClient",
    "NSIS_SUBSTANTIAL",
    "create_idp_app",
    "idp_state",
    "portal_dev_client",
    "portal_editor_dev_client",
    "prefix_rule",
    "start_dev_idp",
]
