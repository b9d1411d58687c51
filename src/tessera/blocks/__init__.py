"""Tessera's blocks. `registry()` maps names to `Block` objects; `resolve()` adds dependencies."""

from __future__ import annotations

from importlib import import_module

from tessera.lib.runtime import Block

# Order matters: a block comes after the blocks it depends on.
KNOWN_BLOCKS = ("user", "notify", "order", "file")


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
