"""The dev IdP's OAuth 2 / OpenID Connect rules, built from authlib's server parts.

Stricter than authlib's defaults on purpose, so tests can prove the portal copes:
PKCE is required for every client and only S256 is accepted; a nonce is required;
codes are single-use and short-lived.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import cast

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfoEndpoint
from authlib.oidc.core import UserInfo as UserInfoClaims
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from flask import Flask
from joserfc.jwk import KeySet, KeySetSerialization, RSAKey

from portal.devtools.demo_data import DemoCitizen
from portal.devtools.idp.editors import DemoEditor
from portal.devtools.idp.models import NSIS_SUBSTANTIAL, AccessToken, AuthorizationCode, IdpClient, Person
from portal.devtools.idp.store import Store

ID_TOKEN_ALG = "RS256"


@dataclass
class IdpState:
    """Everything one dev IdP instance knows; reachable from authlib's grants via the server."""

    issuer: str
    clients: dict[str, IdpClient]
    citizens: dict[str, DemoCitizen]
    key: RSAKey
    cpr_claim: str = "cpr"
    cpr_in_id_token: bool = True
    code_lifetime: int = 60
    store: Store = field(default_factory=Store)
    editors: dict[str, DemoEditor] = field(default_factory=dict)
    editor_claim: str = "gebyrportal_libraries"
    editor_claim_in_id_token: bool = True
    editor_payments_claim: str = "gebyrportal_payments"

    def people(self, client: IdpClient) -> dict[str, DemoCitizen] | dict[str, DemoEditor]:
        """Whom `client` may sign in, by sub: citizens or editors, never both."""
        return self.editors if client.people == "editors" else self.citizens

    def claims(self, person: DemoCitizen | DemoEditor, *, in_id_token: bool) -> dict[str, object]:
        """The claims of a citizen or an editor (the ID token's or userinfo's)."""
        if isinstance(person, DemoEditor):
            return self._editor_claims(person, in_id_token=in_id_token)
        claims: dict[str, object] = {"sub": person.sub, "name": person.name, "acr": NSIS_SUBSTANTIAL}
        if person.cpr is not None and (self.cpr_in_id_token or not in_id_token):
            claims[self.cpr_claim] = person.cpr
        return claims

    def _editor_claims(self, editor: DemoEditor, *, in_id_token: bool) -> dict[str, object]:
        """sub, name, the libraries claim under `editor_claim` and the payments claim; no CPR number, no acr."""
        claims: dict[str, object] = {"sub": editor.sub, "name": editor.name}
        if self.editor_claim_in_id_token or not in_id_token:
            claims[self.editor_claim] = editor.libraries_claim()
            claims[self.editor_payments_claim] = editor.payments_claim()
        return claims

    def public_jwks(self) -> KeySetSerialization:
        return {"keys": [self.key.as_dict(private=False)]}


# authlib's requests carry what this IdP gave it: its clients (query_client) and its people
# (grant_user); the stubs can only say ClientMixin and Any.
def _client(request: OAuth2Request) -> IdpClient:
    return cast(IdpClient, request.client)


def _person(request: OAuth2Request) -> Person:
    return cast(Person, request.user)


def _payload(request: OAuth2Request) -> OAuth2Payload:
    # Set by the Flask integration for every request it hands to grants and extensions.
    assert request.payload is not None
    return request.payload


class IdpAuthorizationServer(AuthorizationServer):
    def __init__(self, app: Flask, state: IdpState) -> None:
        self.idp = state
        super().__init__(app, query_client=state.clients.get, save_token=self._store_token)

    def _store_token(self, token: dict[str, str | int], request: OAuth2Request) -> None:
        self.idp.store.add_token(
            AccessToken(
                access_token=str(token["access_token"]),
                client=_client(request),
                citizen=_person(request),
                scope=str(token["scope"]),
                expires_in=int(token["expires_in"]),
            )
        )


class S256CodeChallenge(CodeChallenge):
    """PKCE for every client (authlib only insists for public ones), S256 only."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = _payload(grant.request).data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    @property
    def idp(self) -> IdpState:
        server: IdpAuthorizationServer = self.server
        return server.idp

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        payload = _payload(request)
        data = payload.data
        self.idp.store.add_code(
            AuthorizationCode(
                code=code,
                client_id=_client(request).client_id,
                redirect_uri=payload.redirect_uri,
                scope=request.scope,
                citizen=_person(request),
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                expires_at=time.time() + self.idp.code_lifetime,
            )
        )

    def query_authorization_code(self, code: str, client: ClientMixin) -> AuthorizationCode | None:
        return self.idp.store.take_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing to do: `query_authorization_code` already took the code out."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Person:
        return authorization_code.citizen


class IdToken(OpenIDCode):
    """Signs ID tokens with the IdP's RSA key and requires a fresh nonce."""

    def __init__(self, state: IdpState) -> None:
        super().__init__(require_nonce=True)
        self.state = state

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return self.state.store.nonce_seen(_payload(request).client_id, nonce)

    def resolve_client_private_key(self, client: IdpClient) -> RSAKey:
        return self.state.key

    def get_client_algorithm(self, client: IdpClient) -> str:
        return ID_TOKEN_ALG

    def get_encode_header(self, client: IdpClient) -> dict[str, str]:
        return {"alg": ID_TOKEN_ALG, "kid": self.state.key.kid or ""}

    def get_client_claims(self, client: IdpClient) -> dict[str, object]:
        return {"iss": self.state.issuer, "aud": client.client_id}

    def generate_user_info(self, user: Person, scope: str) -> UserInfoClaims:
        return UserInfoClaims(self.state.claims(user, in_id_token=True))


class _TokenValidator(BearerTokenValidator):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def authenticate_token(self, token_string: str) -> AccessToken | None:
        return self.store.find_token(token_string)


class UserInfo(UserInfoEndpoint):
    def __init__(self, state: IdpState) -> None:
        protector = ResourceProtector()
        protector.register_token_validator(_TokenValidator(state.store))
        super().__init__(resource_protector=protector)
        self.state = state

    def generate_user_info(self, user: Person, scope: str) -> UserInfoClaims:
        return UserInfoClaims(self.state.claims(user, in_id_token=False))

    def get_issuer(self) -> str:
        return self.state.issuer


class EndSession(EndSessionEndpoint):
    def __init__(self, state: IdpState) -> None:
        super().__init__()
        self.state = state

    def get_server_jwks(self) -> KeySet:
        return KeySet.import_key_set(self.state.public_jwks())

    def get_algorithms(self) -> list[str]:
        return [ID_TOKEN_ALG]

    def is_post_logout_redirect_uri_legitimate(
        self,
        request: OAuth2Request,
        post_logout_redirect_uri: str,
        client: IdpClient | None,
        logout_hint: str | None,
    ) -> bool:
        # Reached only for a URI registered for this client_id. The portal leaves out
        # id_token_hint when the token carries a CPR number (URLs end up in logs), so
        # client_id plus a registered URI is what confirms the redirect here.
        return client is not None

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        # The dev IdP keeps no login session of its own (every login shows the
        # picker), so logging out means: the tokens it issued stop working.
        claims = end_session_request.id_token_claims
        if end_session_request.client is not None and claims:
            self.state.store.revoke_tokens(end_session_request.client.client_id, str(claims.get("sub")))


def build_server(app: Flask, state: IdpState) -> IdpAuthorizationServer:
    server = IdpAuthorizationServer(app, state)
    server.register_grant(CodeGrant, [S256CodeChallenge(required=True), IdToken(state)])
    # authlib registers its UserInfoEndpoint like this, though the class is no `Endpoint`.
    server.register_endpoint(UserInfo(state))  # type: ignore[arg-type]
    server.register_endpoint(EndSession(state))
    return server
