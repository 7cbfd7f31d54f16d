from __future__ import annotations

from portal.payments.states import State
from tests.payments.conftest import PAYABLE, World


def test_a_card_payment_goes_through(world: World) -> None:
    started = world.start()
    assert world.state(started.order_id) is State.CHECKOUT_OPEN
    world.pay_at_nexi(started.order_id)
    world.nexi.wait_for_webhooks_sent()
    assert world.advance(started.order_id) is State.COMPLETED
    assert world.charges(started.order_id) == 1
    assert world.charged_ore(started.order_id) == 3000 + 24950 + 1525 + 2000
    assert world.registrations(started.order_id) == sorted(PAYABLE)
    assert world.open_reservation_ore(started.order_id) == 0
