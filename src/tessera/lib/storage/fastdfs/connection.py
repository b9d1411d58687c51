"""One FastDFS TCP connection with per-read timeouts, and a bounded pool per server address.

The rule that keeps pooled connections trustworthy lives here: a connection goes back to the
pool only when its last exchange was read completely and the server keeps such connections
open; anything else (an error, a partial read, an abandoned download) closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tessera.lib.storage.errors import StorageProtocolError, StorageUnavailable
from tessera.lib.storage.fastdfs.protocol import HEADER_SIZE, Cmd, decode_header, encode_quit

Address = tuple[str, int]

# StreamReader's buffer limit; reading pauses above twice this, which bounds memory per
# connection while keeping 64 KiB reads full during downloads.
_READ_BUFFER_LIMIT = 256 * 1024
# A server (or a NAT box in between) may drop a connection that sat idle; older idle
# connections are closed rather than risked, since an upload cannot be replayed.
MAX_IDLE_SECONDS = 30.0
_QUIT_TIMEOUT_SECONDS = 1.0


class ConnectionLost(StorageUnavailable):
    """The peer closed or reset the connection before any byte of the reply arrived.

    On a connection taken from the pool this usually means it went stale while idle, so a
    replayable request may be retried once on a fresh connection.
    """


class Connection:
    """A connected socket speaking FastDFS framing; not safe for concurrent exchanges."""

    def __init__(
        self,
        address: Address,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        network_timeout: float,
    ) -> None:
        self.address = address
        self._reader = reader
        self._writer = writer
        self._timeout = network_timeout
        # Set only after a complete exchange whose outcome leaves the server side open.
        self.reusable = False
        # True when taken from the idle pool rather than freshly connected.
        self.reused = False
        self.idle_since = 0.0

    @classmethod
    async def open(
        cls, address: Address, *, connect_timeout: float, network_timeout: float
    ) -> Connection:
        host, port = address
        try:
            async with asyncio.timeout(connect_timeout):
                reader, writer = await asyncio.open_connection(host, port, limit=_READ_BUFFER_LIMIT)
        except TimeoutError:
            raise StorageUnavailable(
                f"connecting to FastDFS server {host}:{port} timed out after {connect_timeout}s"
            ) from None
        except OSError as exc:
            raise StorageUnavailable(
                f"cannot connect to FastDFS server {host}:{port}: {exc}"
            ) from exc
        return cls(address, reader, writer, network_timeout)

    @property
    def peer(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"

    @property
    def is_open(self) -> bool:
        return not self._writer.is_closing() and not self._reader.at_eof()

    def begin(self) -> None:
        """Mark the start of an exchange: until it completes the connection is not reusable."""
        self.reusable = False

    async def send(self, data: bytes) -> None:
        self._writer.write(data)
        try:
            async with asyncio.timeout(self._timeout):
                await self._writer.drain()
        except TimeoutError:
            raise StorageUnavailable(
                f"sending to FastDFS server {self.peer} timed out after {self._timeout}s"
            ) from None
        except OSError as exc:
            raise ConnectionLost(f"connection to FastDFS server {self.peer} lost: {exc}") from exc

    async def read_header(self, operation: str) -> tuple[int, int]:
        """Read a response header; return (body_length, status)."""
        try:
            async with asyncio.timeout(self._timeout):
                data = await self._reader.readexactly(HEADER_SIZE)
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise ConnectionLost(
                    f"FastDFS server {self.peer} closed the connection instead of answering "
                    f"{operation}"
                ) from None
            raise StorageProtocolError(
                f"truncated response header from FastDFS server {self.peer} for {operation}: "
                f"{len(exc.partial)} of {HEADER_SIZE} bytes"
            ) from None
        except TimeoutError:
            raise StorageUnavailable(
                f"FastDFS server {self.peer} did not answer {operation} within {self._timeout}s"
            ) from None
        except OSError as exc:
            raise ConnectionLost(
                f"connection to FastDFS server {self.peer} lost during {operation}: {exc}"
            ) from exc
        body_length, cmd, status = decode_header(data)
        if cmd != Cmd.RESPONSE:
            raise StorageProtocolError(
                f"FastDFS server {self.peer} answered {operation} with command {cmd}, "
                f"expected {int(Cmd.RESPONSE)}"
            )
        return body_length, status

    async def read_exactly(self, size: int, operation: str) -> bytes:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._reader.readexactly(size)
        except asyncio.IncompleteReadError as exc:
            raise StorageProtocolError(
                f"truncated {operation} reply from FastDFS server {self.peer}: "
                f"{len(exc.partial)} of {size} body bytes"
            ) from None
        except TimeoutError:
            raise StorageUnavailable(
                f"FastDFS server {self.peer} stalled in {operation} for {self._timeout}s"
            ) from None
        except OSError as exc:
            raise StorageUnavailable(
                f"connection to FastDFS server {self.peer} lost during {operation}: {exc}"
            ) from exc

    async def read_chunk(self, max_size: int, operation: str) -> bytes:
        """Return 1..max_size bytes of a body that is known to have at least that many left."""
        try:
            async with asyncio.timeout(self._timeout):
                data = await self._reader.read(max_size)
        except TimeoutError:
            raise StorageUnavailable(
                f"FastDFS server {self.peer} stalled in {operation} for {self._timeout}s"
            ) from None
        except OSError as exc:
            raise StorageUnavailable(
                f"connection to FastDFS server {self.peer} lost during {operation}: {exc}"
            ) from exc
        if not data:
            raise StorageProtocolError(
                f"FastDFS server {self.peer} closed the connection in the middle of {operation}"
            )
        return data

    def close(self) -> None:
        self.reusable = False
        self._writer.close()

    async def quit_and_close(self) -> None:
        """Say QUIT (the server closes without replying), then close our side; best effort."""
        self.reusable = False
        with contextlib.suppress(Exception):
            if not self._writer.is_closing():
                self._writer.write(encode_quit())
        self._writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_QUIT_TIMEOUT_SECONDS):
                await self._writer.wait_closed()


class ConnectionPool:
    """At most `max_size` connections to one server, in use or idle; acquirers wait for a slot."""

    def __init__(
        self,
        address: Address,
        *,
        max_size: int,
        connect_timeout: float,
        network_timeout: float,
    ) -> None:
        self.address = address
        self._slots = asyncio.Semaphore(max_size)
        self._idle: list[Connection] = []
        self._connect_timeout = connect_timeout
        self._network_timeout = network_timeout
        self._closed = False
        # Connections opened over the pool's life: lets tests and metrics see reuse.
        self.opened = 0

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    async def acquire(self) -> Connection:
        if self._closed:
            raise StorageUnavailable("FastDFS client is closed")
        await self._slots.acquire()
        try:
            now = asyncio.get_running_loop().time()
            while self._idle:
                conn = self._idle.pop()  # newest first: least likely to have gone stale
                if conn.is_open and now - conn.idle_since < MAX_IDLE_SECONDS:
                    conn.reused = True
                    return conn
                conn.close()
            conn = await Connection.open(
                self.address,
                connect_timeout=self._connect_timeout,
                network_timeout=self._network_timeout,
            )
            self.opened += 1
            return conn
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn: Connection) -> None:
        """Give a connection back: pooled if its exchange completed cleanly, else closed."""
        try:
            if conn.reusable and conn.is_open and not self._closed:
                conn.idle_since = asyncio.get_running_loop().time()
                self._idle.append(conn)
            else:
                conn.close()
        finally:
            self._slots.release()

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[Connection]:
        conn = await self.acquire()
        try:
            yield conn
        finally:
            self.release(conn)

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(conn.quit_and_close() for conn in idle))
