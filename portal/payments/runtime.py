"""What payment code needs from the portal, in one object the web layer, the queue and tests build.

No Flask here: the worker runs outside requests, and the fault-injection tests drive the same
code with plain objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from sqlalchemy.orm import Session

from portal import clock
from portal.config import Settings
from portal.domain.fees import Fee, PaymentConfirmation
from portal.libraries.library import Library
from portal.libraries.models import LibraryRow
from portal.libraries.store import library_query, visible_library
from portal.payments.order_token import OrderTokenCipher
from portal.providers.fbs import FbsClient
from portal.providers.fbs_adapter import FbsAdapterClient
from portal.providers.nexi import NexiClient
from portal.providers.upstreams import Upstreams


class OrderFbs(Protocol):
    """What a payment needs of FBS, whichever way it is reached: the fees now, and registration."""

    def get_fees(self, patron_id: int) -> list[Fee]: ...

    def register_payment(self, patron_id: int, order_id: str, fee_ids: list[int]) -> dict[int, PaymentConfirmation]: ...


class _AdapterForOrder:
    """DBC's adapter as an `OrderFbs`: the token stands for the order's patron, so the id is not sent.

    The order's patron id was the token's own patron when the order was made (the overview found
    it with this token), and the adapter only ever acts for the token's patron.
    """

    def __init__(self, client: FbsAdapterClient) -> None:
        self._client = client

    def get_fees(self, patron_id: int) -> list[Fee]:
        return self._client.get_fees()

    def register_payment(self, patron_id: int, order_id: str, fee_ids: list[int]) -> dict[int, PaymentConfirmation]:
        return self._client.register_payment(order_id, fee_ids)


class PaymentsUnavailable(Exception):
    """Card payment is not configured for this library (no gateway URL or no secret key)."""


def _nothing(order_id: str) -> None:
    """No queue: the reconciler picks the order up when its step is due."""


@dataclass
class PaymentRuntime:
    sessions: Callable[[], Session]
    upstreams: Upstreams
    settings: Settings
    # Ask the worker to advance an order now (after the commit that made its step due).
    enqueue: Callable[[str], None] = field(default=_nothing)

    def library(self, session: Session, slug: str) -> Library | None:
        row = session.scalars(library_query().where(LibraryRow.slug == slug)).one_or_none()
        return visible_library(row, clock.now()) if row is not None else None

    def offers_card_payment(self, library: Library) -> bool:
        return bool(self.settings.nexi_base_url and library.nexi_secret_key_env and library.payment_terms_url)

    def nexi(self, library: Library) -> NexiClient:
        """The library's own Nexi merchant account."""
        key = library.nexi_secret_key(self.settings.environment) if self.settings.nexi_base_url else None
        if not key or not self.settings.nexi_base_url:
            raise PaymentsUnavailable(library.slug)
        return self.upstreams.nexi(key)

    def fbs(self, library: Library) -> FbsClient:
        """FBS, uncached: a payment reads and writes what FBS holds now."""
        return self.upstreams.fbs_client(library.agency_id, self.upstreams.fbs_login(library.login_variables()))

    def order_fbs(self, library: Library, adapter_token: str | None) -> OrderFbs:
        """FBS for one order, uncached: through DBC's adapter with the borrower's token, else directly."""
        if adapter_token is None:
            return self.fbs(library)
        return _AdapterForOrder(self.upstreams.fbs_adapter_client(library.agency_id, adapter_token))

    @cached_property
    def order_tokens(self) -> OrderTokenCipher:
        """Seals and opens the adapter token an order keeps until FBS has registered it."""
        return OrderTokenCipher(self.settings.secret_key, self.settings.secret_key_fallbacks)
