"""Tessera's blocks. `load()` returns a block's `Block` object; `resolve()` adds dependencies.

How a block is written (read one, and you can read them all):

    blocks/<name>/
      __init__.py     `block = Block(name, router, depends_on, on_startup, ...)`: its public face
      controller.py   FastAPI routes: parse and validate (DTOs), resolve the caller and their
                      permission, call ONE service function, shape the answer. No SQL, no rules.
      service/        one module per group of use cases (`auth.py`, `ordering.py`, ...); one
                      keyword-only function per use case, owning its transaction (one commit at
                      the end); raises domain errors from `tessera.lib.errors`. `__init__.py`
                      re-exports the public use cases: other blocks call `<name>.service.x()`.
                      Pure rules (state machines, money, policies) live in modules with no I/O.
      dao.py          SQLAlchemy queries for the block's tables; flushes, never commits.
      model/do.py     tables (data objects); model/dto.py pydantic request/response schemas.
      events.py       the topics the block publishes: `Topic(name, Payload)` with EventPayload
                      models. Publish inside the use case's transaction (outbox); consumers
                      subscribe to the same Topic objects from their block's start-up hook.
      integration.py  adapters to outside systems, when needed (a package, `integration/`, when
                      there are several: the order block's payment providers).
      utility.py      pure helpers; README.md: endpoints, events in and out, settings.

Boundaries (checked by `make test`: import-linter contracts in pyproject.toml and
tests/test_architecture.py): a block imports another block's service package, DTOs and
events module only, never its dao or DOs; every block it imports code from is in its
`depends_on` (an events module alone is a published contract and needs no dependency); lib
never imports blocks. A block's settings live in their own section of `lib/config.py`
(`user:`, `order:`, ...); limits and lifetimes are settings, not literals. Routes live in the
block that owns their resource: `tessera routes` lists each path with its block. Migrations:
one Alembic branch per block (`migrations/versions/<date>_<block>_<n>_...`).
"""

from __future__ import annotations

from importlib import import_module

from tessera.lib.runtime import Block

# Order matters: a block comes after the blocks it depends on.
KNOWN_BLOCKS = ("user", "notify", "order", "file", "realtime", "report")


def load(name: str) -> Block:
    if name not in KNOWN_BLOCKS:
        raise ValueError(f"unknown block {name!r}; known: {', '.join(KNOWN_BLOCKS)}")
    block: Block = import_module(f"tessera.blocks.{name}").block
    return block


def resolve(names: list[str] | tuple[str, ...]) -> list[Block]:
    """The named blocks plus everything they depend on, dependencies first."""
    wanted = list(KNOWN_BLOCKS) if not names or "all" in names else list(names)
    chosen: dict[str, Block] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in chosen:
            return
        if name in path:
            raise ValueError(f"block dependency cycle: {' -> '.join((*path, name))}")
        block = load(name)
        for dependency in block.depends_on:
            visit(dependency, (*path, name))
        chosen[name] = block

    for name in wanted:
        visit(name.strip(), ())
    return list(chosen.values())
