"""The user block's `PrincipalSource`: who the bearer of an access token is, cached in Redis
for `security.user_cache_ttl_seconds` and dropped by `common.user_changed` after a change;
and whether a token's session is still signed in, which the database decides whenever Redis
does not know (lib.security.Revocations)."""

from __future__ import annotations

from tessera.blocks.user import dao
from tessera.blocks.user.service.common import principal_key, principal_of
from tessera.lib.db import utcnow
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal


class UserPrincipals:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def cache_key(self, user_id: int) -> str:
        return principal_key(self.runtime, user_id)

    async def load(self, user_id: int) -> Principal | None:
        async def from_db() -> Principal | None:
            async with self.runtime.db.read() as session:
                user = await dao.get_user(session, user_id)
                return None if user is None else principal_of(user)

        return await self.runtime.cache.get_or_load(
            self.cache_key(user_id),
            from_db,
            encode=lambda principal: principal.to_cache(),
            decode=Principal.from_cache,
            ttl_seconds=self.runtime.settings.security.user_cache_ttl_seconds,
        )

    async def session_active(self, session_id: str, user_id: int) -> bool:
        async with self.runtime.db.read() as session:
            found = await dao.get_session(session, session_id)
        return (
            found is not None
            and found.user_id == user_id
            and found.revoked_at is None
            and found.expires_at > utcnow()
        )
