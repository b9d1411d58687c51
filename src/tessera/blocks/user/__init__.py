"""The user block: accounts, sign-in (password, SMS code, second factors) with rotating refresh
tokens, email and phone verification, password reset, RBAC, sessions, audit.

What must reach the user by mail or SMS (links, codes) is published as `user.*` events
(`events.py`) for a delivering block (notify) to send; this block never imports notify."""

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
    description="Accounts, authentication, verification, password reset, roles and permissions",
)
