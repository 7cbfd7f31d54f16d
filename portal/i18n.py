"""Languages (Danish by default, English) and the one place amounts and dates are formatted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency
from flask import Flask, request
from flask_babel import Babel, get_locale

from portal import clock
from portal.config import PROJECT_ROOT
from portal.domain.money import from_ore

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"
LANG_COOKIE = "gebyrportal_lang"
# English readers expect "DKK 1,234.50"; babel's default puts no space after the code.
_CURRENCY_FORMATS = {"en": "¤\u00a0#,##0.00"}


def select_language() -> str:
    """?lang= wins (the language switch), then the cookie it sets; else Danish.

    The browser's Accept-Language is deliberately not used: many Danes run English
    browsers, and a Danish library's page should be Danish until the reader asks.
    """
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


# Parsed once: Flask-Babel parses what the selector returns on every request unless it is a Locale.
_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


def _selected_locale() -> Locale:
    return _LOCALES[select_language()]


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


# Formatting is cached: a page formats each of its amounts and dates per table cell, Babel takes
# some 60-120 µs a call, and a warm page asks for the same few values again and again. The
# results depend on nothing but the arguments. Bounded, as amounts are open-ended.
_FORMAT_CACHE_SIZE = 8192


def money(amount: Decimal, language: str) -> str:
    """'1.234,50 kr.' in Danish, 'DKK 1,234.50' in English; always two decimals."""
    # Keyed by the text of the amount, not the Decimal: Decimal("-0") == Decimal("0") (same
    # hash), yet Babel may print them differently.
    return _money(str(amount), language, amount)


@lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _money(_key: str, language: str, amount: Decimal) -> str:
    return format_currency(amount, "DKK", format=_CURRENCY_FORMATS.get(language), locale=language, currency_digits=True)


def long_date(value: date, language: str) -> str:
    """'15. juni 2021' / '15 June 2021'."""
    return _format_date(value, "d. MMMM y" if language == "da" else "d MMMM y", language)


def short_date(value: date, language: str) -> str:
    """'15.06.2021' / '15/06/2021' — compact, for table cells."""
    return _format_date(value, "dd.MM.y" if language == "da" else "dd/MM/y", language)


@lru_cache(maxsize=_FORMAT_CACHE_SIZE)
def _format_date(value: date, pattern: str, language: str) -> str:
    return babel_format_date(value, pattern, locale=language)


def init_app(app: Flask) -> None:
    Babel(
        app,
        locale_selector=_selected_locale,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(PROJECT_ROOT / "translations"),
    )

    @app.after_request
    def remember_language(response):  # type: ignore[no-untyped-def]
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(
                LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, secure=request.is_secure
            )
        return response

    app.jinja_env.filters["money"] = lambda amount: money(amount, current_language())
    app.jinja_env.filters["ore_money"] = lambda ore: money(from_ore(ore), current_language())
    # An aware moment as the Danish calendar day it fell on.
    app.jinja_env.filters["local_date"] = lambda moment: clock.local(moment).date()
    app.jinja_env.filters["long_date"] = lambda value: long_date(value, current_language())
    app.jinja_env.filters["short_date"] = lambda value: short_date(value, current_language())
    app.jinja_env.globals["current_language"] = current_language
