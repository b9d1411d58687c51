"""The payment gateways of this process, built from settings when the order block starts
and closed when it stops, kept in the runtime's slots; and what clients may choose.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.blocks.order.integration import PaymentGateway, build_gateways, split_method
from tessera.lib.runtime import Runtime, Slot

GATEWAYS: Slot[dict[str, PaymentGateway]] = Slot("order.payment_gateways", owner="order")

# The `checkout` fields each channel fills (shown by GET /payments/methods).
CHECKOUT_FIELDS: dict[str, list[str]] = {
    "page": ["redirect_url", "form"],
    "wap": ["redirect_url", "form"],
    "qr": ["qr_code_url"],
    "native": ["qr_code_url"],
    "jsapi": ["jsapi"],
    "h5": ["redirect_url"],
}


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    provider: str
    channel: str | None  # None: sandbox or a generic webhook provider


async def start_gateways(runtime: Runtime) -> None:
    runtime.slots.put(GATEWAYS, build_gateways(runtime.settings.order))


async def stop_gateways(runtime: Runtime) -> None:
    for gateway in (runtime.slots.pop(GATEWAYS) or {}).values():
        await gateway.aclose()


def gateways(runtime: Runtime) -> dict[str, PaymentGateway]:
    return runtime.slots.find(GATEWAYS) or {}


def gateway(runtime: Runtime, provider: str) -> PaymentGateway | None:
    return gateways(runtime).get(provider)


def enabled_methods(runtime: Runtime) -> list[Method]:
    methods = []
    for name in runtime.settings.order.payment_methods:
        split = split_method(name)
        if split is None:
            methods.append(Method(name, name, None))
        else:
            methods.append(Method(name, split[0], split[1]))
    return methods


def find_method(runtime: Runtime, name: str) -> Method | None:
    return next((method for method in enabled_methods(runtime) if method.name == name), None)
