"""The block boundaries hold by themselves: every block whose code a block imports is in the
`depends_on` it declares, and every block has the files a newcomer expects. (A block may
declare more than it imports: `user` is needed by every block that authenticates requests,
through the principal source it installs, without an import.)

import-linter (`make test`) checks the layering and forbids dao/DO imports across blocks; this
checks what import-linter cannot express: declarations against the real import graph.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

from tessera import blocks as block_registry

BLOCKS_DIR = Path(block_registry.__file__).parent
PACKAGE = "tessera.blocks"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("tessera")


def _block_of(module: str) -> str | None:
    if not module.startswith(PACKAGE + "."):
        return None
    return module.split(".")[2]


def _closure(name: str) -> set[str]:
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        for dependency in block_registry.load(current).depends_on:
            if dependency not in seen:
                seen.add(dependency)
                pending.append(dependency)
    return seen


def _imported_blocks(graph: grimp.ImportGraph, name: str) -> dict[str, set[str]]:
    """Other blocks whose code `name` imports directly, with the modules imported.

    A block's `events` module is a published contract: consuming its topics does not make
    the consumer depend on the publisher (its handlers simply never run without it).
    """
    found: dict[str, set[str]] = {}
    for module in graph.find_descendants(f"{PACKAGE}.{name}") | {f"{PACKAGE}.{name}"}:
        for imported in graph.find_modules_directly_imported_by(module):
            other = _block_of(imported)
            if other is None or other == name or imported == f"{PACKAGE}.{other}.events":
                continue
            found.setdefault(other, set()).add(imported)
    return found


@pytest.mark.parametrize("name", block_registry.KNOWN_BLOCKS)
def test_a_block_imports_only_blocks_it_depends_on(graph, name):
    imported = _imported_blocks(graph, name)
    undeclared = {other: sorted(mods) for other, mods in imported.items()}
    for other in _closure(name):
        undeclared.pop(other, None)
    assert undeclared == {}, f"{name} imports blocks it does not declare in depends_on"


@pytest.mark.parametrize("name", block_registry.KNOWN_BLOCKS)
def test_every_block_has_the_same_files(name):
    folder = BLOCKS_DIR / name
    for required in ("__init__.py", "controller.py", "dao.py", "README.md", "model/dto.py"):
        assert (folder / required).is_file(), f"{name} lacks {required}"
    assert (folder / "service.py").is_file() or (folder / "service" / "__init__.py").is_file()
    assert (folder / "model" / "do.py").is_file()


def test_topics_of_blocks_are_declared_in_their_events_modules():
    """Every topic a block publishes is a Topic declared in that block's events.py."""
    from tessera.lib.tasks import declared_topics

    for name in block_registry.KNOWN_BLOCKS:
        block_registry.load(name)
    ours = [topic for topic in declared_topics() if topic.payload.__module__.startswith(PACKAGE)]
    assert ours
    for topic in ours:
        module = topic.payload.__module__
        assert module.endswith(".events"), f"{topic.name}: payload declared in {module}"
