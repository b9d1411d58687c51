"""The realtime block: `/ws` (order updates, notifications, product changes, chat; across
instances, with resume), WebSocket tickets, and chat rooms with history and presence."""

from __future__ import annotations

from tessera.blocks.realtime.controller import router
from tessera.blocks.realtime.service import Rules, subscribe_handlers
from tessera.lib.realtime import GATEWAY, Gateway, Hub, Presence, create_broadcaster
from tessera.lib.runtime import Block, Runtime


async def _start(runtime: Runtime) -> None:
    settings = runtime.settings
    broker = create_broadcaster(settings, runtime.redis)
    runtime.broadcaster = broker
    hub = Hub(
        broker=broker,
        settings=settings.realtime,
        presence=Presence(
            runtime.redis,
            prefix=settings.cache.key_prefix,
            ttl_seconds=settings.realtime.presence_ttl_seconds,
        ),
        prefix=settings.cache.key_prefix,
        revocations=runtime.revocations,
    )
    runtime.slots.put(GATEWAY, Gateway(hub, Rules(runtime)))
    subscribe_handlers(runtime)


async def _stop(runtime: Runtime) -> None:
    gateway = runtime.slots.pop(GATEWAY)
    if gateway is not None:
        await gateway.hub.close()
    broker, runtime.broadcaster = runtime.broadcaster, None
    if broker is not None:
        await broker.close()


block = Block(
    name="realtime",
    router=router,
    depends_on=("user", "order"),  # notify.events is a published contract, no dependency
    on_startup=(_start,),
    on_shutdown=(_stop,),
    description="WebSocket channels (orders, notifications, products, chat) and chat rooms",
)
