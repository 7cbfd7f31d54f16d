"""FBS client logins and Nexi secret keys that a library names by environment variable.

A library may log in to FBS as its own client (`fbs_username_env` / `fbs_password_env` name the
variables holding it, never the secret itself). The values come from the environment snapshot
taken at start-up (`Settings.environment`), and are checked when libraries load, so a missing
variable stops start-up or the load naming the library and the variable, instead of failing a
citizen's page later.

The same holds for a library's Nexi Checkout secret key (`nexi_secret_key_env`, card payment):
named in the file, read from the snapshot, checked when libraries load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "FbsLogin",
    "LoginVariables",
    "MissingCredentials",
    "NexiVariables",
    "check_logins",
    "check_nexi_keys",
    "resolve_login",
    "resolve_nexi_secret_key",
]


@dataclass(frozen=True)
class FbsLogin:
    """A client login at FBS; the password stays out of reprs and logs."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class LoginVariables:
    """Which variables hold a library's own FBS login (both None: the deployment's login)."""

    library: str  # the slug, for messages
    username_env: str | None
    password_env: str | None


@dataclass(frozen=True)
class NexiVariables:
    """Which variable holds a library's Nexi Checkout secret key (None: no card payment)."""

    library: str  # the slug, for messages
    secret_key_env: str | None


class MissingCredentials(ValueError):
    """A library names a variable that is not set (or empty); the message names both."""

    def __init__(self, library: str, variable: str, what: str = "its FBS credentials") -> None:
        super().__init__(f"library {library}: environment variable {variable} ({what}) is not set")
        self.library = library
        self.variable = variable


def resolve_login(names: LoginVariables, environment: Mapping[str, str], default: FbsLogin) -> FbsLogin:
    """The library's own login from `environment`, or `default` when it names no variables.

    Raises MissingCredentials for the first unset variable.
    """
    if names.username_env is None and names.password_env is None:
        return default
    values = []
    for variable in (names.username_env, names.password_env):
        # The loader refuses one without the other; a half-named login must not fall back.
        value = environment.get(variable or "", "")
        if not variable or not value.strip():
            raise MissingCredentials(names.library, variable or "(unnamed)")
        values.append(value)
    return FbsLogin(values[0].strip(), values[1])


def check_logins(libraries: Iterable[LoginVariables], environment: Mapping[str, str]) -> None:
    """Raise MissingCredentials unless every library's own FBS login is set in `environment`."""
    unused = FbsLogin("", "")
    for names in libraries:
        resolve_login(names, environment, unused)


def resolve_nexi_secret_key(names: NexiVariables, environment: Mapping[str, str]) -> str | None:
    """The library's Nexi secret key from `environment`, or None when it names no variable.

    Raises MissingCredentials when the named variable is unset or empty.
    """
    if names.secret_key_env is None:
        return None
    value = environment.get(names.secret_key_env, "").strip()
    if not value:
        raise MissingCredentials(names.library, names.secret_key_env, "its Nexi secret key")
    return value


def check_nexi_keys(libraries: Iterable[NexiVariables], environment: Mapping[str, str]) -> None:
    """Raise MissingCredentials unless every library's named Nexi secret key is set in `environment`."""
    for names in libraries:
        resolve_nexi_secret_key(names, environment)
