"""Real-time delivery: the `Broadcaster` protocol (Redis Streams + pub/sub, or in-process),
the per-process hub of WebSocket connections, the `/ws` gateway and its JSON protocol, and a
small Python client. The realtime block supplies the rules (who may read which channel).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tessera.lib.config import Settings
from tessera.lib.realtime.broker import (
    Broadcaster,
    BrokerUnavailable,
    History,
    Position,
    Publication,
)
from tessera.lib.realtime.gateway import GATEWAY, ChannelGrant, Gateway, RealtimeRules
from tessera.lib.realtime.hub import Hub
from tessera.lib.realtime.memory import MemoryBroadcaster
from tessera.lib.realtime.presence import Presence
from tessera.lib.realtime.redis import RedisBroadcaster

if TYPE_CHECKING:
    from tessera.lib.runtime import Runtime

__all__ = [
    "GATEWAY",
    "Broadcaster",
    "BrokerUnavailable",
    "ChannelGrant",
    "Gateway",
    "History",
    "Hub",
    "MemoryBroadcaster",
    "Position",
    "Presence",
    "Publication",
    "RealtimeRules",
    "RedisBroadcaster",
    "broadcaster_of",
    "create_broadcaster",
    "uvicorn_options",
]


def broadcaster_of(runtime: Runtime) -> Broadcaster:
    """The broadcaster the realtime block installed at start-up (`runtime.broadcaster`)."""
    if runtime.broadcaster is None:
        raise RuntimeError("no broadcaster installed: enable the realtime block")
    return runtime.broadcaster


def create_broadcaster(settings: Settings, redis: object) -> Broadcaster:
    """Redis Streams + pub/sub when a Redis URL is configured, else in-process."""
    realtime = settings.realtime
    if settings.cache.url:
        from redis.asyncio import Redis

        assert isinstance(redis, Redis)
        return RedisBroadcaster(
            redis,
            url=settings.cache.url,
            prefix=settings.cache.key_prefix,
            history_size=realtime.history_size,
            history_ttl_seconds=realtime.history_ttl_seconds,
            meta_ttl_seconds=realtime.channel_meta_ttl_seconds,
        )
    return MemoryBroadcaster(
        history_size=realtime.history_size,
        history_ttl_seconds=realtime.history_ttl_seconds,
        meta_ttl_seconds=realtime.channel_meta_ttl_seconds,
    )


def uvicorn_options(settings: Settings) -> dict[str, object]:
    """uvicorn's WebSocket settings for Tessera: websockets' sans-I/O implementation, no
    compression unless configured (it costs 40-100 KB per socket), the inbound size limit
    (1009 above it), and no protocol-level pings (the gateway's heartbeat is the contract)."""
    realtime = settings.realtime
    return {
        "ws": "websockets-sansio",
        "ws_max_size": realtime.max_message_bytes,
        "ws_per_message_deflate": realtime.per_message_deflate,
        "ws_ping_interval": None,
        "ws_ping_timeout": None,
    }
