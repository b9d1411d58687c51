"""The notify block: mail and SMS (templates, providers, delivery from the outbox worker, the
operators' log), per-user notification preferences, and the consumers that turn other
blocks' events (identity links and codes, orders) into messages. Sends only from the worker."""

from __future__ import annotations

from tessera.blocks.notify.controller import router
from tessera.blocks.notify.service import subscribe_handlers
from tessera.blocks.notify.utility import RENDERER, build_renderer
from tessera.lib import mail, sms
from tessera.lib.runtime import Block, Runtime


async def _start(runtime: Runtime) -> None:
    settings = runtime.settings
    runtime.slots.put(RENDERER, build_renderer(settings.notify))
    runtime.mailer = mail.create_mailer(settings.mail, var_dir=settings.var_dir)
    runtime.sms = sms.create_sms_sender(settings.sms, var_dir=settings.var_dir)
    subscribe_handlers(runtime)


async def _stop(runtime: Runtime) -> None:
    mailer, sender, runtime.mailer, runtime.sms = runtime.mailer, runtime.sms, None, None
    runtime.slots.pop(RENDERER)
    if mailer is not None:
        await mailer.close()
    if sender is not None:
        await sender.close()


block = Block(
    name="notify",
    router=router,
    depends_on=("user",),
    on_startup=(_start,),
    on_shutdown=(_stop,),
    description="Mail and SMS delivery, templates, notification preferences, message log",
)
