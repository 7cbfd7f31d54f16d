"""What the dev IdP keeps in memory: registered clients, authorization codes, access tokens."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin

from portal.devtools.demo_data import DemoCitizen
from portal.devtools.idp.editors import DemoEditor

# The NSIS assurance level MitID brokers state for an ordinary MitID login.
NSIS_SUBSTANTIAL = "https://data.gov.dk/concept/core/nsis/loa/Substantial"

PostLogoutRule = Callable[[str], bool]
# Whom a code or token was issued to: a demo citizen, or a demo editor for an editor client.
Person = DemoCitizen | DemoEditor


def prefix_rule(prefix: str) -> PostLogoutRule:
    """Accept every post-logout URI under `prefix` (which should end with '/').

    For `make run`, where each library has its own page to come back to.
    """
    if not prefix.endswith("/"):
        # Without the slash "http://127.0.0.1:5000" would also match "http://127.0.0.1:50000".
        raise ValueError("a post-logout prefix must end with '/'")
    return lambda uri: uri.startswith(prefix)


class _Allowed:
    def __init__(self, rule: PostLogoutRule) -> None:
        self._rule = rule

    def __contains__(self, uri: object) -> bool:
        return isinstance(uri, str) and self._rule(uri)


@dataclass(frozen=True)
class IdpClient(ClientMixin):
    """A relying party registered at the dev IdP.

    Redirect URIs match exactly. `post_logout_redirect_uris` is either a list of
    exact URIs or a rule (a callable such as `prefix_rule(...)`). `people` says whom
    the client signs in: demo citizens, or demo library editors (as if it were the
    organisation's IdP, a separate one in a real deployment).
    """

    client_id: str
    client_secret: str
    redirect_uris: Sequence[str]
    post_logout_redirect_uris: Sequence[str] | PostLogoutRule = ()
    people: Literal["citizens", "editors"] = "citizens"

    def __post_init__(self) -> None:
        object.__setattr__(self, "redirect_uris", tuple(self.redirect_uris))
        if not callable(self.post_logout_redirect_uris):
            object.__setattr__(self, "post_logout_redirect_uris", tuple(self.post_logout_redirect_uris))

    @property
    def client_metadata(self) -> dict[str, object]:
        # authlib's end-session endpoint checks `uri in metadata["post_logout_redirect_uris"]`;
        # a container that applies our rule lets it support prefix rules too.
        return {"post_logout_redirect_uris": _Allowed(self.allows_post_logout_redirect)}

    def allows_post_logout_redirect(self, uri: str) -> bool:
        rule = self.post_logout_redirect_uris
        return rule(uri) if callable(rule) else uri in rule

    def get_client_id(self) -> str:
        return self.client_id

    # The stubs say str; authlib takes a missing default as "redirect_uri is required".
    def get_default_redirect_uri(self) -> None:  # type: ignore[override]
        # OpenID Connect requires redirect_uri in every authorization request.
        return None

    # The stubs say str -> str; authlib passes the request's scope (maybe None) and refuses on None.
    def get_allowed_scope(self, scope: str | None) -> str | None:  # type: ignore[override]
        # Only OpenID Connect: a plain OAuth request (no "openid") gets no ID token and no nonce check.
        if not scope or "openid" not in scope.split():
            return None
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.client_secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass(frozen=True)
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    citizen: Person
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    expires_at: float
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    # The stubs say str; authlib's own default returns None and leaves acr out for a falsy value.
    def get_acr(self) -> str | None:  # type: ignore[override]
        # MitID's assurance level is a citizen's; an editor signs in at the organisation's IdP.
        return NSIS_SUBSTANTIAL if isinstance(self.citizen, DemoCitizen) else None


@dataclass
class AccessToken(TokenMixin):
    access_token: str
    client: IdpClient
    citizen: Person
    scope: str
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    revoked: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> Person:
        return self.citizen

    def get_client(self) -> IdpClient:
        return self.client
