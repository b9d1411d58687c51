"""Rows in from async code, file bytes out to async code, the writing in a thread between.

`TableStream(batches, open_writer)` is an async iterator of byte chunks: give it to
`Storage.save` or a `StreamingResponse`. Batches of rows (from keyset pages or a server-side
cursor) are handed to a dedicated thread that runs the `SheetWriter`, so encoding and deflating
never block the event loop; the thread's output comes back in chunks of `chunk_bytes`.

Memory stays bounded whatever the row count: at most `max_batches` batches wait for the
thread and at most `max_chunks` chunks wait for the consumer; a slow consumer (a slow storage
backend, a slow client) makes the thread wait, which makes the row reader wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from typing import IO

from tessera.lib.office.xlsx import SheetWriter

Row = Sequence[object]
WriterFactory = Callable[[IO[bytes]], SheetWriter]

_DONE = object()


class StreamAborted(Exception):
    """The consumer went away; the writer thread stops at its next step."""


class _ChunkSink:
    """The writer's `target`: gathers bytes and hands them on in chunks, waiting for room."""

    def __init__(self, emit: Callable[[bytes], None], chunk_bytes: int) -> None:
        self._emit = emit
        self._chunk_bytes = chunk_bytes
        self._buffer = bytearray()
        self._position = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buffer += data
        self._position += len(data)
        if len(self._buffer) >= self._chunk_bytes:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            chunk, self._buffer = bytes(self._buffer), bytearray()
            self._emit(chunk)

    def tell(self) -> int:
        return self._position

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


class TableStream:
    """Async iterator of the bytes of a table written by a `SheetWriter` in a thread."""

    def __init__(
        self,
        batches: AsyncIterable[Sequence[Row]],
        open_writer: WriterFactory,
        *,
        chunk_bytes: int = 256 * 1024,
        max_batches: int = 2,
        max_chunks: int = 8,
    ) -> None:
        self._batches = batches
        self._open_writer = open_writer
        self._chunk_bytes = chunk_bytes
        self._inbox: queue.Queue[object] = queue.Queue(maxsize=max_batches)
        self._room = threading.Semaphore(max_chunks)
        self._aborted = threading.Event()
        self._outbox: asyncio.Queue[object] = asyncio.Queue()
        self.rows_read = 0
        self._writer: SheetWriter | None = None

    @property
    def rows_written(self) -> int:
        return 0 if self._writer is None else self._writer.rows_written

    # The thread ---------------------------------------------------------------------------

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        def emit(chunk: bytes) -> None:
            while not self._room.acquire(timeout=0.2):
                if self._aborted.is_set():
                    raise StreamAborted
            loop.call_soon_threadsafe(self._outbox.put_nowait, chunk)

        writer: SheetWriter | None = None
        try:
            sink = _ChunkSink(emit, self._chunk_bytes)
            writer = self._writer = self._open_writer(sink)  # type: ignore[arg-type]
            while True:
                batch = self._take()
                if batch is _DONE:
                    break
                writer.write_rows(batch)  # type: ignore[arg-type]
            writer.close()
            sink.flush()
            loop.call_soon_threadsafe(self._outbox.put_nowait, _DONE)
        except BaseException as exc:
            if writer is not None:
                writer.abort()
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(self._outbox.put_nowait, exc)

    def _take(self) -> object:
        while True:
            if self._aborted.is_set():
                raise StreamAborted
            try:
                return self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue

    # The async side -----------------------------------------------------------------------

    async def _feed(self) -> None:
        try:
            async for batch in self._batches:
                if batch:
                    self.rows_read += len(batch)
                    await self._put(batch)
            await self._put(_DONE)
        except StreamAborted:
            pass
        except Exception as exc:
            # Handed to the consumer, which raises it where the bytes were expected.
            self._aborted.set()
            self._outbox.put_nowait(exc)

    async def _put(self, item: object) -> None:
        while True:
            if self._aborted.is_set():
                raise StreamAborted
            try:
                self._inbox.put_nowait(item)
                return
            except queue.Full:
                pass
            # Wait (in a helper thread) until the writer takes a batch; wake up now and then
            # to notice an abort.
            with contextlib.suppress(queue.Full):
                await asyncio.to_thread(self._inbox.put, item, True, 0.2)
                return

    async def __aiter__(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        thread = threading.Thread(target=self._run, args=(loop,), name="table-writer")
        thread.start()
        feeder = asyncio.create_task(self._feed())
        try:
            while True:
                item = await self._outbox.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, bytes)
                self._room.release()
                yield item
            await feeder
        finally:
            self._aborted.set()
            if not feeder.done():
                feeder.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await feeder
            await asyncio.to_thread(thread.join)
