"""Direction (a): every recorded request, replayed to the FAKE, must get the recorded answer.

The fake starts empty, so the test for capture N replays captures 0..N-1 first (on one
tracker and one storage connection, reopened only where the server closes them) to rebuild
the state the real server had, then compares the answer to capture N.

Compared exactly: every header byte (length, command 100, status), every body byte, and
whether the storage closed the connection (after EINVAL) or sent nothing (QUIT). Three
things cannot match a recording and are handled as follows:

* Port: the real storage listened on 23000, the fake on an ephemeral port. In tracker
  replies the 8-byte port field is *substituted* with the fake's storage port before an
  exact comparison (not masked).
* Generated remote filenames (upload/appender replies): the server makes them from the
  clock and random numbers. The 20 base64-encoded bytes are decoded and compared field by
  field: source IP, CRC32 of the content, the size word's marker bit (0x80000000 in the high
  half), appender flag and low 32 size bits exactly; only the creation timestamp and the 23
  random bits of the size word are masked. Path (`M00/00/00/`), suffix length, `.ext` and
  the group are exact; only the random suffix digits are masked (digits must stay digits).
  Later recorded requests name the recorded file; they are rewritten to the fake's name
  (same length, so framing stays the same).
* query-file-info: the create timestamp is the file's mtime, i.e. wall-clock time; it is
  masked. Size, CRC32 (known content, so exact, including the recomputed appender CRC) and
  the IP field are exact.
"""

from __future__ import annotations

import asyncio
import base64
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.fastdfs import FakeFastDFS
from tests.lib.storage.fastdfs.conftest import CAPTURES, capture_id

HEADER = struct.Struct(">QBB")
RANDOM_SIZE_BITS = 0x7FFFFF << 32
MASKED = "<masked>"
TIMEOUT = 2.0


@dataclass
class Outcome:
    target: str
    request: bytes
    expected: bytes
    actual: bytes
    closed: bool


class Replayer:
    def __init__(self, fake: FakeFastDFS) -> None:
        self.fake = fake
        self.links: dict[str, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
        self.names: dict[bytes, bytes] = {}  # recorded remote filename -> the fake's

    async def _link(self, target: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if target not in self.links:
            port = self.fake.tracker.port if target == "tracker" else self.fake.storage_port
            self.links[target] = await asyncio.open_connection("127.0.0.1", port)
        return self.links[target]

    def _drop(self, target: str) -> None:
        _, writer = self.links.pop(target)
        writer.close()

    async def close(self) -> None:
        for target in list(self.links):
            self._drop(target)

    async def run(self, index: int) -> Outcome:
        capture = CAPTURES[index]
        op = capture["op"]
        target = op.split("/")[1]
        if "storage_offline" in op and self.fake.storage.running:
            # The recording stopped the only storage before these two queries.
            await self.fake.stop_storage()
        request = bytes.fromhex(capture["request_hex"])
        for recorded, ours in self.names.items():
            request = request.replace(recorded, ours)
        expected = bytes.fromhex(capture["response_hex"])
        reader, writer = await self._link(target)
        writer.write(request)
        await writer.drain()

        if not expected:  # QUIT: no answer, the server hangs up
            actual = await asyncio.wait_for(reader.read(), TIMEOUT)
            self._drop(target)
            return Outcome(target, request, expected, actual, closed=True)

        head = await asyncio.wait_for(reader.readexactly(HEADER.size), TIMEOUT)
        length, _, status = HEADER.unpack(head)
        actual = head + await asyncio.wait_for(reader.readexactly(length), TIMEOUT)
        closed = False
        if status == 22 and target == "storage":
            closed = await asyncio.wait_for(reader.read(), TIMEOUT) == b""
            self._drop(target)

        cmd = request[8]
        if status == 0 and target == "tracker" and cmd in (101, 102, 103, 104):
            expected = expected[:41] + struct.pack(">Q", self.fake.storage_port) + expected[49:]
        if status == 0 and cmd in (11, 23) and len(actual) == len(expected):
            self.names[expected[26:]] = actual[26:]
        return Outcome(target, request, expected, actual, closed)


def comparable(request: bytes, response: bytes) -> Any:
    """The response with only the legitimately random/time-based fields masked."""
    if not response:
        return "no reply, connection closed"
    head, body = response[: HEADER.size], response[HEADER.size :]
    status = head[9]
    view: dict[str, Any] = {"header": head.hex()}
    cmd = request[8]
    if status == 0 and cmd in (11, 23):
        name = body[16:].decode("ascii")
        path, encoded, suffix = name[:10], name[10:37], name[37:]
        source, _timestamp, size_word, crc = struct.unpack(
            ">IIQI", base64.urlsafe_b64decode(encoded + "=")
        )
        view.update(
            group=body[:16].hex(),
            path=path,
            source=f"{source:08x}",
            timestamp=MASKED,
            size_word=f"{size_word & ~RANDOM_SIZE_BITS:016x}",
            crc32=f"{crc:08x}",
            suffix=re.sub(r"[0-9]", "#", suffix),
        )
    elif status == 0 and cmd == 22:
        size, _timestamp, crc = struct.unpack_from(">QQQ", body)
        view.update(size=size, timestamp=MASKED, crc32=f"{crc:016x}", ip=body[24:].hex())
    else:
        view["body"] = body.hex()
    return view


@pytest.mark.parametrize("index", range(len(CAPTURES)), ids=capture_id)
async def test_fake_answers_like_the_real_server(index: int, tmp_path: Path) -> None:
    async with FakeFastDFS(tmp_path / "fdfs") as fake:
        replayer = Replayer(fake)
        try:
            for earlier in range(index):
                await replayer.run(earlier)
            outcome = await replayer.run(index)
        finally:
            await replayer.close()

    assert comparable(outcome.request, outcome.actual) == comparable(
        outcome.request, outcome.expected
    )
    status = outcome.expected[9] if outcome.expected else None
    if outcome.target == "storage" and status == 22:
        assert outcome.closed, "the storage must close the connection after EINVAL"
    if not outcome.expected:
        assert outcome.actual == b""
        assert outcome.closed


def test_every_capture_is_covered_and_well_formed() -> None:
    assert len(CAPTURES) == 69
    for capture in CAPTURES:
        request = bytes.fromhex(capture["request_hex"])
        assert HEADER.unpack_from(request)[0] == len(request) - HEADER.size
        response = bytes.fromhex(capture["response_hex"])
        if response:
            length, cmd, status = HEADER.unpack_from(response)
            assert cmd == 100
            assert length == len(response) - HEADER.size
            assert status == 0 or length == 0
