"""The user block: accounts, sign-in with rotating refresh tokens, RBAC, sessions, audit."""

from __future__ import annotations

from tessera.blocks.user.controller import router
from tessera.blocks.user.service import UserPrincipals
from tessera.lib.runtime import Block, Runtime


async def _register_principals(runtime: Runtime) -> None:
    runtime.principal_source = UserPrincipals(runtime)


block = Block(
    name="user",
    router=router,
    on_startup=(_register_principals,),
    description="Accounts, authentication, roles and permissions",
)
