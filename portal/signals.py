"""Signals between layers, so auth need not know the provider cache and vice versa."""

from blinker import Namespace

_signals = Namespace()

# Sent by auth at logout (and session expiry it notices), before the session is
# destroyed. kwargs: patrons = {agency_id: patron_id} the session had resolved.
citizen_logged_out = _signals.signal("citizen-logged-out")

# Sent by auth in the sign-in callback's request, once the new session holds the citizen.
# kwargs: citizen (portal.auth.citizen_session.Citizen), slug (the library signed in at).
# portal.web.citizen starts fetching their debts, so the first view finds them ready.
citizen_signed_in = _signals.signal("citizen-signed-in")
