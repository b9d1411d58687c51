"""The process-wide `Runtime` (settings, database, cache, security services) and the `Block`
description every block exports from its `__init__.py`.

One Runtime is built per process in `create_app`'s lifespan (or by a CLI command), started
(`await runtime.start()`: reads the installation id) and handed to services as a keyword
argument; nothing here is a module-level global.

Integrations that lib defines the protocol of (storage, mailer, SMS sender, broadcaster) are
typed fields, set by the block that owns them at start-up and read through
`get_storage(runtime)`, `mailer_of(runtime)`, `sms_of(runtime)`, `broadcaster_of(runtime)`,
which say which block to enable when one is missing.
A block's own per-process state goes in `runtime.slots` under a typed `Slot` it declares.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import structlog
from cryptography.fernet import Fernet
from fastapi import APIRouter, Depends, Request
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import exc as sqlalchemy_exc

from tessera.lib.cache import Cache, KeySpace, Redis, create_redis
from tessera.lib.config import Settings
from tessera.lib.db import Database
from tessera.lib.installation import read_installation_id
from tessera.lib.ratelimit import RateLimiter
from tessera.lib.security import (
    PasswordHasher,
    Principal,
    PrincipalSource,
    Revocations,
    TokenService,
)
from tessera.lib.tasks.outbox import EventBus

if TYPE_CHECKING:
    from tessera.lib.mail.base import Mailer
    from tessera.lib.otp import OneTimeCodes
    from tessera.lib.realtime.broker import Broadcaster
    from tessera.lib.sms.base import SmsSender
    from tessera.lib.storage.base import Storage

T = TypeVar("T")
log = structlog.get_logger("tessera.runtime")

# Failures that mean "not reachable now" rather than "misconfigured".
BACKEND_DOWN = (
    sqlalchemy_exc.OperationalError,
    sqlalchemy_exc.InterfaceError,
    sqlalchemy_exc.TimeoutError,
    OSError,
    RedisConnectionError,
)
INSTALLATION_RETRY_SECONDS = 2.0


class Slot(Generic[T]):
    """A typed key for one piece of a block's per-process state in `Runtime.slots`."""

    __slots__ = ("name", "owner")

    def __init__(self, name: str, *, owner: str) -> None:
        self.name = name
        self.owner = owner

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class Slots:
    """Per-process state of blocks, keyed by `Slot` objects so reads are typed."""

    def __init__(self) -> None:
        self._values: dict[Slot[Any], Any] = {}

    def put(self, slot: Slot[T], value: T) -> None:
        self._values[slot] = value

    def find(self, slot: Slot[T]) -> T | None:
        value: T | None = self._values.get(slot)
        return value

    def get(self, slot: Slot[T]) -> T:
        if slot not in self._values:
            raise LookupError(f"{slot.name} is not set up: is the {slot.owner} block loaded?")
        value: T = self._values[slot]
        return value

    def pop(self, slot: Slot[T]) -> T | None:
        value: T | None = self._values.pop(slot, None)
        return value


class _NoPrincipals:
    """Placeholder until the user block registers the real source."""

    def cache_key(self, user_id: int) -> str:
        return f"-:no-principals:{user_id}"

    async def load(self, user_id: int) -> Principal | None:
        return None

    async def session_active(self, session_id: str, user_id: int) -> bool:
        return False


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: Redis
    keys: KeySpace
    cache: Cache
    ratelimiter: RateLimiter
    passwords: PasswordHasher
    tokens: TokenService
    revocations: Revocations
    principal_source: PrincipalSource = field(default_factory=_NoPrincipals)
    events: EventBus = field(default_factory=EventBus)
    # Integrations, set at start-up by the block that owns them (None: block not loaded).
    storage: Storage | None = None
    mailer: Mailer | None = None
    sms: SmsSender | None = None
    broadcaster: Broadcaster | None = None
    # Made on first use (they read the server secret).
    codes: OneTimeCodes | None = None
    sealers: dict[str, Fernet] = field(default_factory=dict)
    slots: Slots = field(default_factory=Slots)
    _binder: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        redis = create_redis(settings.cache)
        keys = KeySpace(settings.cache.key_prefix)
        return cls(
            settings=settings,
            db=Database(settings.database),
            redis=redis,
            keys=keys,
            cache=Cache(redis, settings.cache, keys),
            ratelimiter=RateLimiter(redis, keys=keys, enabled=settings.ratelimit.enabled),
            passwords=PasswordHasher(
                time_cost=settings.security.argon2_time_cost,
                memory_kib=settings.security.argon2_memory_kib,
                parallelism=settings.security.argon2_parallelism,
            ),
            tokens=TokenService(settings),
            revocations=Revocations(
                redis,
                keys,
                settings.security.access_token_ttl_seconds,
                settings.security.session_cache_ttl_seconds,
            ),
        )

    async def start(self, *, wait_for_database: bool = True) -> None:
        """Read what the process needs from the database before serving: the installation
        id that namespaces every Redis key (see `tessera.lib.installation`).

        With `wait_for_database=False` (the server) an unreachable database does not stop
        start-up: the id is read in the background, and until then anything that needs a
        Redis key answers 503 while /healthz and /readyz keep answering. A database that is
        reachable but has no id (not migrated) always stops start-up.
        """
        if self.keys.installation_id is not None:
            return
        try:
            self.keys.bind(await read_installation_id(self.db))
        except BACKEND_DOWN as exc:
            if wait_for_database:
                raise
            log.warning("installation_id_deferred", error=repr(exc)[:300])
            self._binder = asyncio.create_task(self._bind_when_reachable(), name="installation")

    async def _bind_when_reachable(self) -> None:
        while self.keys.installation_id is None:
            await asyncio.sleep(INSTALLATION_RETRY_SECONDS)
            try:
                self.keys.bind(await read_installation_id(self.db))
            except BACKEND_DOWN:
                continue
            except Exception:
                log.exception("installation_id_unreadable")
                return
            log.info("installation_id_read")

    @property
    def worker_in_process(self) -> bool:
        mode = self.settings.tasks.worker_in_process
        return mode == "on" or (mode == "auto" and self.settings.embedded)

    async def close(self) -> None:
        if self._binder is not None:
            self._binder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._binder
        await self.db.dispose()
        await self.redis.aclose()


Hook = Callable[[Runtime], Awaitable[None]]


@dataclass(frozen=True)
class Block:
    """A block's public face: its HTTP routes, the blocks it needs, and lifecycle hooks."""

    name: str
    router: APIRouter
    depends_on: tuple[str, ...] = ()
    on_startup: tuple[Hook, ...] = ()
    on_shutdown: tuple[Hook, ...] = ()
    description: str = ""
    # Regular expressions of paths that accept large multipart uploads (they stream the body
    # and enforce their own size limit); every other body is capped at max_json_body_bytes.
    upload_paths: tuple[str, ...] = ()


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
