"""The layers hold: rules about who imports what, read from the source with `ast`.

Each rule is checked on the real tree (no violations) and on a planted copy (the violation is
found), so a rule that can no longer fail is noticed.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The debt rules: the standard library, Babel and themselves (and the portal's clock).
DOMAIN_MAY_IMPORT = ("portal.domain", "portal.clock", "babel")
FLASK = ("flask", "flask_babel", "flask_caching", "werkzeug")
# Where Flask may be imported: the web-facing packages, the dev tools (separate WSGI apps),
# and the set-up modules that wire extensions into the app.
FLASK_ALLOWED = (
    "portal.web",
    "portal.auth",
    "portal.editor",
    "portal.devtools",
)
FLASK_SETUP_MODULES = frozenset(
    {
        "portal",  # the app factory
        "portal.db",  # engine per app, session per request
        "portal.app_state",  # one object per app in app.extensions, made on first use
        "portal.kvstore",  # the app's key-value store (flask-caching)
        "portal.i18n",  # Flask-Babel, the language of the request
        "portal.providers.setup",  # the upstreams into app.extensions
        "portal.payments.setup",  # the payment runtime, its queue and worker command
        "portal.libraries",  # start-up load of the libraries file
        "portal.libraries.cli",  # `flask libraries …`
        "portal.libraries.cache",  # the libraries as citizens see them, one cache per app (app.extensions)
        "portal.observability.setup",  # health, readiness, metrics and logging into the app
    }
)
# Configuration is read once, here (the demo's own settings live in the dev tools).
ENVIRONMENT_READERS = ("portal.config", "portal.devtools")


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    rule: str
    detail: str


@dataclass(frozen=True)
class Import:
    module: str  # the imported module, absolute
    names: tuple[str, ...]  # names taken from it (`from m import a, b`), () for `import m`
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(tree: ast.Module, module: str, is_package: bool) -> Iterator[Import]:
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield Import(target, tuple(alias.name for alias in node.names), node.lineno)


def within(module: str, prefixes: tuple[str, ...] | frozenset[str]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def top_package(module: str) -> str:
    """`portal.web.citizen` -> `portal.web`; `portal.config` -> `portal.config`."""
    return ".".join(module.split(".")[:2])


def is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


def check(root: Path) -> list[Violation]:
    """Every violation of the rules in the `portal` package under `root`."""
    found: list[Violation] = []
    for path in sorted((root / "portal").rglob("*.py")):
        module = module_name(root, path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for imported in imports_of(tree, module, path.name == "__init__.py"):
            found += check_import(module, imported)
        found += check_environment(module, tree)
    return found


def check_import(module: str, imported: Import) -> list[Violation]:
    found = []
    target = imported.module

    def violation(rule: str, detail: str) -> None:
        found.append(Violation(module, imported.line, rule, detail))

    # `from portal import clock` imports the module portal.clock.
    submodules = [f"{target}.{name}" for name in imported.names]

    def allowed_for_domain(candidate: str) -> bool:
        return candidate == "__future__" or is_stdlib(candidate) or within(candidate, DOMAIN_MAY_IMPORT)

    if within(module, ("portal.domain",)) and not (
        allowed_for_domain(target) or (submodules and all(allowed_for_domain(name) for name in submodules))
    ):
        violation("domain", f"imports {target}")
    if within(target, FLASK) and not (within(module, FLASK_ALLOWED) or module in FLASK_SETUP_MODULES):
        violation("flask", f"imports {target}")
    if not within(module, ("portal.devtools",)) and any(
        within(candidate, ("portal.devtools",)) for candidate in [target, *submodules]
    ):
        violation("devtools", f"imports {target}")
    if within(target, ("portal",)):
        other_package = top_package(target) != top_package(module)
        private_module = [part for part in target.split(".") if part.startswith("_") and part != "__init__"]
        private_names = [name for name in imported.names if name.startswith("_")]
        if other_package and (private_module or private_names):
            violation("private", f"imports {', '.join(private_names) or target} from {target}")
    return found


def check_environment(module: str, tree: ast.Module) -> list[Violation]:
    if within(module, ENVIRONMENT_READERS):
        return []
    return [
        Violation(module, node.lineno, "environment", f"reads os.{node.attr}")
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("environ", "getenv", "environb")
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    ]


# -- the real tree -----------------------------------------------------------------------------


def test_the_portal_keeps_its_layers() -> None:
    assert check(ROOT) == []


def test_the_checker_reads_the_whole_package() -> None:
    modules = {module_name(ROOT, path) for path in (ROOT / "portal").rglob("*.py")}
    # The rules above name real modules: a rename must update them, not silently widen them.
    assert FLASK_SETUP_MODULES <= modules
    assert {"portal.domain.merge", "portal.web.citizen", "portal.services.debts"} <= modules


# -- each rule can fail ---------------------------------------------------------------------------

PLANTED = {
    "portal/domain/bad.py": ("import nh3\nfrom portal.libraries.library import Library\n", "domain"),
    "portal/services/bad.py": ("from flask import current_app\n", "flask"),
    "portal/providers/bad.py": ("import flask_caching\n", "flask"),
    "portal/web/bad.py": ("from portal.devtools import demo_data\n", "devtools"),
    "portal/services/also_bad.py": ("from portal import devtools\n", "devtools"),
    "portal/editor/bad.py": ("from portal.web.security import _CSP\n", "private"),
    "portal/auth/bad.py": ("from ..web import _private_helper\n", "private"),
    "portal/libraries/bad.py": ("import os\nTOKEN = os.environ['X']\n", "environment"),
}


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    for name, (source, _rule) in PLANTED.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for package in {Path(name).parent for name in PLANTED} | {Path("portal")}:
        (tmp_path / package / "__init__.py").touch()
    return tmp_path


def test_every_rule_finds_its_planted_violation(planted: Path) -> None:
    found = {(v.module, v.rule) for v in check(planted)}
    expected = {(module_name(planted, planted / name), rule) for name, (_source, rule) in PLANTED.items()}
    assert found == expected


def test_what_the_rules_allow(tmp_path: Path) -> None:
    allowed = {
        "portal/domain/ok.py": "from decimal import Decimal\nfrom babel.numbers import format_decimal\n"
        "from portal import clock\nfrom portal.domain.fees import Fee\n",
        "portal/web/ok.py": "from flask import Blueprint\nfrom portal.web.urls import _helper\n",
        "portal/providers/setup.py": "from flask import Flask\n",
        "portal/devtools/ok.py": "import os\nfrom flask import Flask\nPORT = os.environ.get('X')\n",
        "portal/config.py": "import os\nENV = os.environ\n",
    }
    for name, source in allowed.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    assert check(tmp_path) == []
