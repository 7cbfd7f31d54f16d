"""`Library`: what views need to know about one library, free of SQLAlchemy and Flask."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from portal.libraries.defaults import TEXT_KEYS, default_text
from portal.providers.credentials import LoginVariables, NexiVariables, resolve_nexi_secret_key

MITID, ADGANGSPLATFORMEN = "mitid", "adgangsplatformen"
SIGN_IN_PROFILES = (MITID, ADGANGSPLATFORMEN)
FBS_DIRECT, FBS_DBC_ADAPTER = "direct", "dbc_adapter"
FBS_ACCESS_MODES = (FBS_DIRECT, FBS_DBC_ADAPTER)


@dataclass(frozen=True)
class Library:
    """One library (FBS agency) served by this deployment.

    `texts` holds only the library's own wordings, `{language: {key: value}}`;
    every other text falls back to the defaults. Texts may contain `{cutoff_date}`.
    """

    slug: str
    name: str
    agency_id: str
    cutoff_date: date
    kodelinje: str | None = None
    payment_overview_url: str | None = None
    fbs_username_env: str | None = None
    fbs_password_env: str | None = None
    # Card payment (issue 8): the variable holding the library's own Nexi secret key, and the
    # terms a citizen accepts; the loader refuses the variable without the terms.
    nexi_secret_key_env: str | None = None
    payment_terms_url: str | None = None
    # Who to ask (issue 9): the library about a fee; the municipality's payment contact about
    # paying in Mit Betalingsoverblik (one line of text, e.g. "Lyngby-Taarbæk Kommune, Opkrævningen").
    contact_phone: str | None = None
    contact_email: str | None = None
    contact_url: str | None = None
    municipality_contact: str | None = None
    municipality_contact_url: str | None = None
    # Links the default texts point to; a default names a link only when its URL is set.
    read_more_url: str | None = None
    fee_rates_url: str | None = None
    # The library's own web sites that may show the page in an iframe (issue 10), as origins
    # ("https://www.lyngbybib.dk"); none: the page cannot be embedded.
    embed_origins: tuple[str, ...] = ()
    # How borrowers sign in: "mitid" (the deployment's OpenID Connect provider) and/or
    # "adgangsplatformen" (DBC's login.bib.dk with the library's agency), in the order offered.
    sign_in: tuple[str, ...] = ("mitid",)
    # How FBS is read for a borrower signed in through Adgangsplatformen: "direct" (the portal's
    # own FBS client login, by CPR number) or "dbc_adapter" (DBC's adapter, with the borrower's token).
    fbs_access: str = "direct"
    # A dict is not hashable; leave it out of the generated __hash__.
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Own plain-dict copies: the caller's dicts cannot change us later, an empty
        # language equals a missing one, and the object still pickles (cache).
        texts = {lang: dict(values) for lang, values in self.texts.items() if values}
        object.__setattr__(self, "texts", texts)

    def offers(self, profile: str) -> bool:
        """Whether borrowers can sign in with `profile` ("mitid" or "adgangsplatformen")."""
        return profile in self.sign_in

    def text(self, key: str, language: str) -> str:
        """The library's own wording of `key` in `language`, else the default."""
        # default_text also rejects unknown keys and languages.
        fallback = default_text(key, language, code_line=self.has_code_line, links=self.text_links())
        return self.texts.get(language, {}).get(key, fallback)

    @property
    def has_code_line(self) -> bool:
        """Whether citizens are shown a kodelinje to pay the debts still in FBS in their bank."""
        return bool(self.kodelinje)

    @property
    def has_library_contact(self) -> bool:
        """Whether citizens can be told how to reach the library (phone, e-mail or contact page)."""
        return bool(self.contact_phone or self.contact_email or self.contact_url)

    @property
    def has_municipality_contact(self) -> bool:
        """Whether citizens can be told whom to ask about paying in Mit Betalingsoverblik."""
        return bool(self.municipality_contact or self.municipality_contact_url)

    def text_links(self) -> dict[str, str]:
        """The links the default texts may point to, only those set (see defaults.default_text)."""
        links = {"read_more_url": self.read_more_url, "fee_rates_url": self.fee_rates_url}
        return {name: url for name, url in links.items() if url}

    def all_texts(self, language: str) -> dict[str, str]:
        """Every text key in `language`, defaults applied."""
        return {key: self.text(key, language) for key in TEXT_KEYS}

    def explicit_texts(self, language: str) -> dict[str, str]:
        """Only the wordings the library set itself in `language`."""
        return dict(self.texts.get(language, {}))

    def login_variables(self) -> LoginVariables:
        """The variables naming this library's own FBS login (both None: the deployment's)."""
        return LoginVariables(self.slug, self.fbs_username_env, self.fbs_password_env)

    def nexi_variables(self) -> NexiVariables:
        """The variable naming this library's Nexi secret key (None: no card payment)."""
        return NexiVariables(self.slug, self.nexi_secret_key_env)

    def nexi_secret_key(self, environment: Mapping[str, str]) -> str | None:
        """The library's Nexi secret key from `environment` (`Settings.environment`), None without one.

        Raises MissingCredentials when the library names a variable that is unset or empty.
        """
        return resolve_nexi_secret_key(self.nexi_variables(), environment)
