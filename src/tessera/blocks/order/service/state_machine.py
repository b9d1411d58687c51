"""The order state machine, free of I/O: the statuses, the transitions between them and who may
perform each (the buyer, staff with `order:manage`, or the system: the expiry job and payment
webhooks). `decide` only decides; `lifecycle.py` applies its answer to the database. Keeping
the rules here lets unit tests cover every status x action x caller without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Final, Literal

from tessera.lib.errors import Conflict, Forbidden, NotFound

if TYPE_CHECKING:
    from tessera.lib.security import Principal

ORDER_READ_ANY: Final = "order:read:any"
ORDER_MANAGE: Final = "order:manage"

PENDING_PAYMENT: Final = "pending_payment"
PAID: Final = "paid"
SHIPPED: Final = "shipped"
COMPLETED: Final = "completed"
CANCELLED: Final = "cancelled"
REFUNDED: Final = "refunded"
# Where every order starts (placing it is not a transition: there is no order before).
INITIAL_STATUS: Final = PENDING_PAYMENT

Action = Literal["pay", "ship", "complete", "cancel", "refund"]


class Performer(Enum):
    """The capacities in which a caller acts on an order."""

    OWNER = "owner"  # the buyer
    STAFF = "staff"  # a user holding `order:manage`
    SYSTEM = "system"  # the expiry job, a payment provider's callback or reconciliation


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    from_status: str
    to_status: str
    performers: frozenset[Performer]
    restores_stock: bool = False  # the order's lines go back on the shelf


_OWNER, _STAFF, _SYSTEM = Performer.OWNER, Performer.STAFF, Performer.SYSTEM

TRANSITIONS: Final[dict[Action, Transition]] = {
    # Only the buyer starts a payment; the system settles one when a provider's webhook says so.
    "pay": Transition("pay", PENDING_PAYMENT, PAID, frozenset({_OWNER, _SYSTEM})),
    "ship": Transition("ship", PAID, SHIPPED, frozenset({_STAFF})),
    "complete": Transition("complete", SHIPPED, COMPLETED, frozenset({_OWNER, _STAFF})),
    # The system cancels orders left unpaid past their deadline.
    "cancel": Transition(
        "cancel",
        PENDING_PAYMENT,
        CANCELLED,
        frozenset({_OWNER, _STAFF, _SYSTEM}),
        restores_stock=True,
    ),
    # Staff refund; the system completes a refund when the payment provider confirms it.
    "refund": Transition(
        "refund", PAID, REFUNDED, frozenset({_STAFF, _SYSTEM}), restores_stock=True
    ),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who moves an order: a signed-in user (with their permissions) or the system, named by
    `label` in the order's history (`user:7`, `system`, `payment:alipay`)."""

    label: str
    principal: Principal | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(label=f"user:{principal.id}", principal=principal)

    @classmethod
    def payment_provider(cls, provider: str) -> Actor:
        return cls(label=f"payment:{provider}")

    @property
    def user_id(self) -> int | None:
        return None if self.principal is None else self.principal.id


SYSTEM: Final = Actor(label="system")


def can_see(principal: Principal, owner_id: int) -> bool:
    """Customers see their own orders; `order:read:any` sees everyone's."""
    return owner_id == principal.id or principal.has(ORDER_READ_ANY)


def performers(actor: Actor, owner_id: int) -> frozenset[Performer]:
    """The capacities in which `actor` acts on an order of `owner_id` (staff may also own it)."""
    principal = actor.principal
    if principal is None:
        return frozenset({Performer.SYSTEM})
    held = set()
    if principal.id == owner_id:
        held.add(Performer.OWNER)
    if principal.has(ORDER_MANAGE):
        held.add(Performer.STAFF)
    return frozenset(held)


def decide(*, action: Action, status: str, owner_id: int, actor: Actor) -> Transition:
    """The transition `actor` may apply to an order in `status` owned by `owner_id`.

    Raises, in this order: `NotFound` if a user may not see the order at all (someone else's
    order is not found, never forbidden), `Forbidden` if they see it but may not perform
    `action`, `Conflict` (`order.invalid_state`) if the order is not where `action` starts.
    """
    transition = TRANSITIONS[action]
    if actor.principal is not None and not can_see(actor.principal, owner_id):
        raise NotFound("No such order.", code="order.not_found")
    if not performers(actor, owner_id) & transition.performers:
        raise Forbidden(f"You may not {action} this order.", code="order.action_forbidden")
    if status != transition.from_status:
        raise Conflict(
            f"Cannot {action} an order that is {status}.",
            code="order.invalid_state",
            extra={"order_status": status},
        )
    return transition
