"""The demo (`make run`): the portal with the dev identity provider and the simulators.

`create_demo_app()` starts the dev IdP and the FBS, debtor, FBI, Nexi Checkout and Adgangsplatformen
simulators in daemon threads on fixed loopback ports, then builds the portal with `demo_settings()`: the same
`portal.create_app` a deployment runs, with every variable a deployment must set filled in with
the dev services' values. Production code never imports this module; the portal itself has no
demo mode and no fallback credentials.

Card payment: Lyngby takes cards through the Nexi simulator, Rødovre does not, so the demo shows
both. The payment worker runs inside the portal process (the embedded default).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import threading
from collections.abc import Callable, MutableMapping
from pathlib import Path

from flask import Flask

from portal import create_app
from portal.config import INSTANCE_DIR, Settings, load_settings
from portal.devtools.cms_demo import DEV_CMS_ORIGIN
from portal.devtools.nexi_sim import DEV_NEXI_PORT, DEV_NEXI_SECRET_KEY

log = logging.getLogger(__name__)

PORTAL_URL = "http://127.0.0.1:5000"
# Fixed loopback ports of the dev services; the portal itself listens on 5000.
DEV_IDP_PORT = 5001
DEV_FBS_PORT = 5002
DEV_DEBTOR_PORT = 5003
# Nexi's simulator has 5004 (portal.devtools.nexi_sim).
DEV_FBI_PORT = 5005
DEV_ADGANGSPLATFORMEN_PORT = 5006
DEV_IDP_ISSUER = f"http://127.0.0.1:{DEV_IDP_PORT}"
DEV_FBS_BASE_URL = f"http://127.0.0.1:{DEV_FBS_PORT}"
DEV_DEBTOR_BASE_URL = f"http://127.0.0.1:{DEV_DEBTOR_PORT}"
# Like the real service, the path names a search profile; the simulator answers any.
DEV_FBI_BASE_URL = f"http://127.0.0.1:{DEV_FBI_PORT}/demo/next"
DEV_OIDC_CLIENT_ID = "gebyrportal-dev"
DEV_OIDC_CLIENT_SECRET = "gebyrportal-dev-secret"
# The editor area's client at the dev IdP, registered apart from the citizens' client.
DEV_EDITOR_CLIENT_ID = "gebyrportal-editor-dev"
DEV_EDITOR_CLIENT_SECRET = "gebyrportal-editor-dev-secret"
DEV_FBS_USERNAME = "gebyrportal"
DEV_FBS_PASSWORD = "simulator"
DEV_DEBTOR_API_KEY = "debtor-simulator-key"
DEV_FBI_TOKEN = "fbi-simulator-token"
DEV_NEXI_BASE_URL = f"http://127.0.0.1:{DEV_NEXI_PORT}"
# Adgangsplatformen's simulator (portal.devtools.adgangsplatformen): Lyngby offers it beside MitID.
DEV_ADGANGSPLATFORMEN_URL = f"http://127.0.0.1:{DEV_ADGANGSPLATFORMEN_PORT}"
DEV_ADGANGSPLATFORMEN_CLIENT_ID = "gebyrportal-adgangsplatformen-dev"
DEV_ADGANGSPLATFORMEN_CLIENT_SECRET = "gebyrportal-adgangsplatformen-dev-secret"
ADGANGSPLATFORMEN_LIBRARY = "lyngby"
DEMO_LIBRARIES_FILE = Path(__file__).resolve().parent / "demo_libraries.toml"
# Card payment in the demo: which library, the variable naming its Nexi key, its terms page.
CARD_PAYMENT_LIBRARY = "lyngby"
DEMO_NEXI_SECRET_KEY_ENV = "LYNGBY_NEXI_SECRET_KEY"
DEMO_TERMS_PATH = "/static/demo/betalingsbetingelser.html"

_started = threading.Lock()
_done = False


def demo_environment() -> dict[str, str]:
    """The PORTAL_* variables of the demo: the dev services' addresses and credentials."""
    return {
        "PORTAL_SECRET_KEY": _demo_secret_key(),
        "PORTAL_BASE_URL": PORTAL_URL,
        "PORTAL_OIDC_ISSUER": DEV_IDP_ISSUER,
        "PORTAL_OIDC_CLIENT_ID": DEV_OIDC_CLIENT_ID,
        "PORTAL_OIDC_CLIENT_SECRET": DEV_OIDC_CLIENT_SECRET,
        "PORTAL_FBS_BASE_URL": DEV_FBS_BASE_URL,
        "PORTAL_FBS_USERNAME": DEV_FBS_USERNAME,
        "PORTAL_FBS_PASSWORD": DEV_FBS_PASSWORD,
        "PORTAL_DEBTOR_BASE_URL": DEV_DEBTOR_BASE_URL,
        "PORTAL_DEBTOR_API_KEY": DEV_DEBTOR_API_KEY,
        "PORTAL_FBI_BASE_URL": DEV_FBI_BASE_URL,
        "PORTAL_FBI_TOKEN": DEV_FBI_TOKEN,
        "PORTAL_EDITOR_OIDC_ISSUER": DEV_IDP_ISSUER,
        "PORTAL_EDITOR_OIDC_CLIENT_ID": DEV_EDITOR_CLIENT_ID,
        "PORTAL_EDITOR_OIDC_CLIENT_SECRET": DEV_EDITOR_CLIENT_SECRET,
        "PORTAL_NEXI_BASE_URL": DEV_NEXI_BASE_URL,
        DEMO_NEXI_SECRET_KEY_ENV: DEV_NEXI_SECRET_KEY,
        "PORTAL_ADGANGSPLATFORMEN_URL": DEV_ADGANGSPLATFORMEN_URL,
        "PORTAL_ADGANGSPLATFORMEN_CLIENT_ID": DEV_ADGANGSPLATFORMEN_CLIENT_ID,
        "PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET": DEV_ADGANGSPLATFORMEN_CLIENT_SECRET,
        # DBC's FBS adapter is played by the FBS simulator itself (its adapter paths).
        "PORTAL_FBS_ADAPTER_BASE_URL": DEV_FBS_BASE_URL,
        "PORTAL_LIBRARIES_FILE": str(
            libraries_with_card_payment(
                INSTANCE_DIR,
                PORTAL_URL + DEMO_TERMS_PATH,
                adgangsplatformen=True,
                fbs_adapter=True,
                embed_origins=(DEV_CMS_ORIGIN,),
            )
        ),
    }


def libraries_with_card_payment(
    folder: Path,
    terms_url: str,
    *,
    adgangsplatformen: bool = False,
    fbs_adapter: bool = False,
    embed_origins: tuple[str, ...] = (),
) -> Path:
    """The demo libraries with card payment for Lyngby, written to `folder`; its path.

    The shared demo file names no Nexi key on purpose: the loader insists that a named variable
    is set, and the many test portals that load that file would all have to set it. So the
    demo (and the browser tests' card-payment stack) add the two keys to a copy. The copy keeps
    the file's name, so the history still says the demo file made the change. With
    `adgangsplatformen`, Lyngby also offers sign-in with Adgangsplatformen (see
    `libraries_with_adgangsplatformen`); with `fbs_adapter` too, it reads FBS through DBC's adapter
    for borrowers signed in there (needs PORTAL_FBS_ADAPTER_BASE_URL). `embed_origins`: the sites
    that may embed Lyngby's page (the demo's CMS page, portal.devtools.cms_demo).
    """
    card = f'nexi_secret_key_env = "{DEMO_NEXI_SECRET_KEY_ENV}"\npayment_terms_url = "{terms_url}"\n'
    extra = {CARD_PAYMENT_LIBRARY: card}
    if adgangsplatformen:
        extra[ADGANGSPLATFORMEN_LIBRARY] = extra.get(ADGANGSPLATFORMEN_LIBRARY, "") + _SIGN_IN_BOTH
        if fbs_adapter:
            extra[ADGANGSPLATFORMEN_LIBRARY] += 'fbs_access = "dbc_adapter"\n'
    if embed_origins:
        listed = ", ".join(f'"{origin}"' for origin in embed_origins)
        extra[CARD_PAYMENT_LIBRARY] += f"embed_origins = [{listed}]\n"
    return _libraries_copy(folder, extra)


# Likewise kept out of the shared file: a library offering Adgangsplatformen needs the portal's
# client there (checked at start-up), which the many test portals loading that file do not set.
_SIGN_IN_BOTH = 'sign_in = ["mitid", "adgangsplatformen"]\n'


def libraries_with_adgangsplatformen(folder: Path) -> Path:
    """The demo libraries, Lyngby offering sign-in with MitID and with Adgangsplatformen, written to `folder`."""
    return _libraries_copy(folder, {ADGANGSPLATFORMEN_LIBRARY: _SIGN_IN_BOTH})


def _libraries_copy(folder: Path, extra: dict[str, str]) -> Path:
    """The demo file with `extra` lines added to the tables of the given slugs, written to `folder`."""
    text = DEMO_LIBRARIES_FILE.read_text(encoding="utf-8")
    for slug, lines in extra.items():
        # The slug line opens the library's table; keys right after it stay in that table.
        marker = f'slug = "{slug}"\n'
        if text.count(marker) != 1:
            raise RuntimeError(f"{DEMO_LIBRARIES_FILE.name}: expected one line {marker.strip()!r}")
        text = text.replace(marker, marker + lines, 1)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DEMO_LIBRARIES_FILE.name
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        # Write beside and rename: a portal starting meanwhile never reads half a file.
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return path


def demo_settings() -> Settings:
    """The demo's settings; a PORTAL_* variable set in the environment wins (e.g. PORTAL_CACHE_URL)."""
    return load_settings({**demo_environment(), **os.environ})


def create_demo_app() -> Flask:
    """`flask --app 'portal.devtools.demo:create_demo_app()' run`: dev services, then the portal."""
    loopback_direct(os.environ)
    start_dev_services()
    return create_app(demo_settings())


# Where the dev services listen. Read by the portal's own client and by requests (the sign-in's calls).
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def loopback_direct(environ: MutableMapping[str, str]) -> None:
    """Name the loopback hosts in NO_PROXY (and in no_proxy, when that is set) of `environ`.

    A developer's machine in a municipal network often has HTTPS_PROXY set for everything else;
    the demo's calls would then go to that proxy, which cannot reach the dev services on this
    machine, and the sign-in would fail. A deployment reads the variables as they are.
    """
    for name in [name for name in ("no_proxy", "NO_PROXY") if name in environ] or ["NO_PROXY"]:
        entries = [entry.strip() for entry in environ.get(name, "").split(",") if entry.strip()]
        environ[name] = ",".join([*entries, *(host for host in _LOOPBACK if host not in entries)])


def _demo_secret_key() -> str:
    """A secret kept in instance/ so demo sessions survive a restart."""
    path = INSTANCE_DIR / "demo-secret-key"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def start_dev_services() -> None:
    """Start the dev IdP and the simulators on their loopback ports, once per process."""
    global _done
    with _started:
        if _done:
            return
        _done = True
    from portal.devtools.adgangsplatformen import portal_client, start_adgangsplatformen_sim
    from portal.devtools.cms_demo import start_cms_demo
    from portal.devtools.debtor_sim import start_debtor_sim
    from portal.devtools.fbi_sim import start_fbi_sim
    from portal.devtools.fbs_sim import SimState, start_fbs_sim
    from portal.devtools.idp import portal_dev_client, portal_editor_dev_client, start_dev_idp
    from portal.devtools.nexi_sim import start_nexi_sim

    # One dev IdP plays both MitID for citizens and the organisation's IdP for the editor area.
    clients = [portal_dev_client(PORTAL_URL), portal_editor_dev_client(PORTAL_URL)]
    started = [
        _try_start("dev identity provider", lambda: start_dev_idp("127.0.0.1", DEV_IDP_PORT, DEV_IDP_ISSUER, clients)),
        _try_start(
            "FBS simulator",
            # Its adapter paths find the borrower behind a user token at the Adgangsplatformen simulator.
            lambda: start_fbs_sim("127.0.0.1", DEV_FBS_PORT, SimState(adgangsplatformen_url=DEV_ADGANGSPLATFORMEN_URL)),
        ),
        _try_start("debtor simulator", lambda: start_debtor_sim("127.0.0.1", DEV_DEBTOR_PORT)),
        _try_start("FBI simulator", lambda: start_fbi_sim("127.0.0.1", DEV_FBI_PORT)),
        _try_start("Nexi Checkout simulator", lambda: start_nexi_sim("127.0.0.1", DEV_NEXI_PORT)),
        _try_start(
            "Adgangsplatformen simulator",
            lambda: start_adgangsplatformen_sim(
                "127.0.0.1",
                DEV_ADGANGSPLATFORMEN_PORT,
                [portal_client(PORTAL_URL, DEV_ADGANGSPLATFORMEN_CLIENT_ID, DEV_ADGANGSPLATFORMEN_CLIENT_SECRET)],
            ),
        ),
        _try_start("library website (CMS) demo", lambda: start_cms_demo(PORTAL_URL)),
    ]
    if all(started):
        print(banner(), file=sys.stderr, flush=True)


def _try_start(name: str, start: Callable[[], object]) -> bool:
    try:
        start()
    except OSError as exc:  # port in use: another process of this demo serves it
        log.info("%s not started here (%s); assuming it already runs", name, exc)
        return False
    return True


def banner() -> str:
    """What `make run` prints: where to go and who to sign in as."""
    from portal.devtools.demo_data import CITIZENS, LIBRARY_LOGIN_USERS
    from portal.devtools.idp.editors import EDITORS

    lines = [
        "",
        "Gebyrportal demo",
        f"  Open {PORTAL_URL}/lyngby/ (or {PORTAL_URL}/ for all demo libraries) and press 'Log ind'.",
        "  The dev identity provider then lets you pick one of these demo borrowers:",
    ]
    lines += [f"    - {c.name:<18} {c.description}" for c in CITIZENS]
    lines += [
        f"  Lyngby also offers 'Log ind med bibliotekskort og pinkode' (the Adgangsplatformen simulator,"
        f" {DEV_ADGANGSPLATFORMEN_URL}):"
    ]
    lines += [f"    - {u.name:<18} {u.description}" for u in LIBRARY_LOGIN_USERS]
    lines += [f"  Library editors: open {PORTAL_URL}/editor/ and sign in as one of these demo editors:"]
    lines += [f"    - {e.name:<18} {e.description}" for e in EDITORS]
    lines += [
        f"  Dev identity provider: {DEV_IDP_ISSUER}   FBS simulator: {DEV_FBS_BASE_URL}",
        f"  Debtor simulator (Mit Betalingsoverblik status): {DEV_DEBTOR_BASE_URL}",
        f"  FBI simulator (titles of the fees' materials): {DEV_FBI_BASE_URL}/graphql",
        f"  Lyngby's page inside a library website (CMS): {DEV_CMS_ORIGIN}/ (the 'du skylder' fragment:"
        f" {DEV_CMS_ORIGIN}/?view=summary); docs/embedding.md.",
        f"  Card payment (Lyngby only): sign in as Anne, tick fees under 'Betales her', press 'Betal med kort',"
        f" and pay on the Nexi simulator's page ({DEV_NEXI_BASE_URL}).",
        "",
    ]
    return "\n".join(lines)
