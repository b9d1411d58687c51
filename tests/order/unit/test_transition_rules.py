"""The pure order state machine: every status x action x caller, without a database."""

from __future__ import annotations

import pytest

from tessera.blocks.order.service.state_machine import (
    INITIAL_STATUS,
    ORDER_MANAGE,
    ORDER_READ_ANY,
    SYSTEM,
    TRANSITIONS,
    Actor,
    can_see,
    decide,
)
from tessera.lib.errors import Conflict, Forbidden, NotFound
from tessera.lib.security import Principal

OWNER_ID = 7
STATUSES = ["pending_payment", "paid", "shipped", "completed", "cancelled", "refunded"]
ACTIONS = ["pay", "ship", "complete", "cancel", "refund"]
# The lifecycle as the README draws it, written out independently of the module under test.
PATHS = {
    ("pending_payment", "pay"): "paid",
    ("pending_payment", "cancel"): "cancelled",
    ("paid", "ship"): "shipped",
    ("paid", "refund"): "refunded",
    ("shipped", "complete"): "completed",
}
MAY = {
    "pay": {"owner", "system"},
    "ship": {"staff"},
    "complete": {"owner", "staff"},
    "cancel": {"owner", "staff", "system"},
    "refund": {"staff", "system"},  # the system: when the provider confirms a refund
}


def _user(user_id: int, *permissions: str) -> Principal:
    return Principal(
        id=user_id,
        username=f"u{user_id}",
        is_active=True,
        roles=frozenset(),
        permissions=frozenset(permissions),
    )


CALLERS = {
    "owner": Actor.of(_user(OWNER_ID)),
    "staff": Actor.of(_user(8, ORDER_MANAGE, ORDER_READ_ANY)),
    "staff_owner": Actor.of(_user(OWNER_ID, ORDER_MANAGE, ORDER_READ_ANY)),
    "reader": Actor.of(_user(9, ORDER_READ_ANY)),  # sees every order, may move none
    "stranger": Actor.of(_user(10)),
    "system": SYSTEM,
    "provider": Actor.payment_provider("alipay"),
}
CAPACITIES = {
    "owner": {"owner"},
    "staff": {"staff"},
    "staff_owner": {"owner", "staff"},
    "reader": set(),
    "stranger": set(),
    "system": {"system"},
    "provider": {"system"},
}


def _expected(status: str, action: str, caller: str) -> type[Exception] | str:
    if caller == "stranger":
        return NotFound
    if not CAPACITIES[caller] & MAY[action]:
        return Forbidden
    return PATHS.get((status, action), Conflict)


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", STATUSES)
def test_decide_answers_every_status_action_and_caller(status, action, caller):
    expected = _expected(status, action, caller)
    if isinstance(expected, str):
        transition = decide(action=action, status=status, owner_id=OWNER_ID, actor=CALLERS[caller])
        assert (transition.from_status, transition.to_status) == (status, expected)
        return
    with pytest.raises(expected) as raised:
        decide(action=action, status=status, owner_id=OWNER_ID, actor=CALLERS[caller])
    codes = {
        NotFound: "order.not_found",
        Forbidden: "order.action_forbidden",
        Conflict: "order.invalid_state",
    }
    assert raised.value.code == codes[expected]
    if expected is Conflict:
        assert raised.value.extra == {"order_status": status}


def test_the_table_has_exactly_the_documented_paths():
    assert INITIAL_STATUS == "pending_payment"
    assert {(t.from_status, t.action): t.to_status for t in TRANSITIONS.values()} == PATHS
    terminal = {"completed", "cancelled", "refunded"}
    assert not {t.from_status for t in TRANSITIONS.values()} & terminal


def test_only_cancel_and_refund_give_stock_back():
    assert {t.action for t in TRANSITIONS.values() if t.restores_stock} == {"cancel", "refund"}


def test_actors_are_labelled_for_the_history():
    owner = Actor.of(_user(OWNER_ID))
    assert (owner.label, owner.user_id) == ("user:7", OWNER_ID)
    assert (SYSTEM.label, SYSTEM.user_id) == ("system", None)
    provider = Actor.payment_provider("alipay")
    assert (provider.label, provider.user_id) == ("payment:alipay", None)


def test_only_the_owner_and_readers_of_any_order_see_it():
    assert can_see(_user(OWNER_ID), OWNER_ID)
    assert can_see(_user(9, ORDER_READ_ANY), OWNER_ID)
    assert not can_see(_user(10), OWNER_ID)
    # Managing orders without reading them all is not enough to see someone else's.
    assert not can_see(_user(11, ORDER_MANAGE), OWNER_ID)
