"""One embedded process per `var/`: a lock file holding the owner's pid.

In embedded mode (SQLite or the in-process cache) the cache, rate limits, one-time codes and
the outbox worker live inside the serving process. A second `tessera serve` (or a separate
`tessera worker`) on the same `var/` would share the database but not that memory: codes
and links it issues would be unknown to the other. The lock is an advisory `flock`, so it
goes away with its process however that process ends: no stale lock after a crash.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import IO

LOCK_NAME = "tessera.lock"


class AlreadyRunning(RuntimeError):
    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder
        super().__init__(f"{path} is held by {holder}")


class RunLock:
    """Held from `acquire` until `release` or the end of the process."""

    def __init__(self, var_dir: Path, role: str) -> None:
        self.path = var_dir / LOCK_NAME
        self.role = role
        self._handle: IO[str] | None = None

    def acquire(self) -> RunLock:
        if sys.platform == "win32":  # pragma: no cover - no flock; embedded mode is for dev
            return self
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the life of the process
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise AlreadyRunning(self.path, holder) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"{self.role} (pid {os.getpid()})\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.truncate(0)
            handle.close()
