"""Signals between layers, so auth need not know the provider cache and vice versa."""

from blinker import Namespace

_signals = Namespace()

# Sent by auth at logout (and session expiry it notices), before the session is
# destroyed. kwargs: patrons = {agency_id: patron_id} the session had resolved.
citizen_logged_out = _signals.signal("citizen-logged-out")
