"""FBS client logins: the deployment's own, and those a library names by environment variable.

A library may log in to FBS as its own client (`fbs_username_env` / `fbs_password_env` name the
variables holding it, never the secret itself). The values come from the environment snapshot
taken at start-up (`Settings.environment`), and are checked when libraries load, so a missing
variable stops start-up or the load naming the library and the variable, instead of failing a
citizen's page later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["FbsLogin", "LoginVariables", "MissingCredentials", "check_logins", "resolve_login"]


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


class MissingCredentials(ValueError):
    """A library names a variable that is not set (or empty); the message names both."""

    def __init__(self, library: str, variable: str) -> None:
        super().__init__(f"library {library}: environment variable {variable} (its FBS credentials) is not set")
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
