"""The realtime wire protocol: JSON text frames, their parsing, close codes and error codes.

Clients and tests depend on every name here; add fields freely, never rename one. Frames a
client sends are parsed by hand (not pydantic): a socket handles many small frames, and
anything malformed must become an error frame, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

# Close codes. 1xxx are RFC 6455's; 4xxx are Tessera's (4000 + the closest HTTP status).
CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_RESTART = 1012  # the server is shutting down: reconnect (elsewhere) and resume
CLOSE_TRY_LATER = 1013  # this process is full: back off, reconnect
CLOSE_SLOW_CONSUMER = 4008
CLOSE_BAD_MESSAGES = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_IDLE = 4408
CLOSE_TOO_MANY_CONNECTIONS = 4409
CLOSE_RATE_LIMITED = 4429

# A channel is "<kind>:<name>"; what each kind means and who may read it is the block's
# business (its ChannelPolicy). The characters are restricted so that names never need
# escaping inside JSON or Redis keys.
CHANNEL_RE = re.compile(r"^[a-z][a-z_]{0,15}:[A-Za-z0-9_.-]{1,64}$")
EPOCH_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
MAX_REF_CHARS = 64

CLIENT_TYPES = frozenset({"auth", "subscribe", "unsubscribe", "publish", "ping", "pong"})


def dumps(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


def error_frame(
    code: str,
    detail: str,
    *,
    channel: str | None = None,
    ref: str | int | None = None,
) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if channel is not None:
        frame["channel"] = channel
    if ref is not None:
        frame["ref"] = ref
    return dumps(frame)


PING_FRAME = '{"type":"ping"}'
PONG_FRAME = '{"type":"pong"}'


def message_frame(channel: str, offset: int, epoch: str, data: bytes) -> str:
    """A publication as sent to clients. `data` is already JSON; it is spliced in, not
    re-encoded, and the frame is built once per publication for all its subscribers."""
    return (
        f'{{"type":"message","channel":"{channel}","offset":{offset},'
        f'"epoch":"{epoch}","data":{data.decode()}}}'
    )


class ProtocolError(Exception):
    """A frame the server cannot act on; becomes an error frame with `code`."""

    def __init__(self, code: str, detail: str, *, ref: str | int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.ref = ref


@dataclass(frozen=True, slots=True)
class Since:
    offset: int
    epoch: str


@dataclass(frozen=True, slots=True)
class ClientFrame:
    type: str
    ref: str | int | None = None
    token: str | None = None
    channel: str | None = None
    since: Since | None = None
    data: dict[str, Any] | None = None


def _ref(raw: Any) -> str | int | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int) and -(2**53) < raw < 2**53:
        return raw
    if isinstance(raw, str) and len(raw) <= MAX_REF_CHARS:
        return raw
    return None


def _channel(raw: Any, ref: str | int | None) -> str:
    if not isinstance(raw, str) or not CHANNEL_RE.fullmatch(raw):
        raise ProtocolError(
            "realtime.bad_channel", "channel must look like kind:name (e.g. user:42)", ref=ref
        )
    return raw


def _since(raw: Any, ref: str | int | None) -> Since | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ProtocolError("realtime.invalid_message", "since must be {offset, epoch}", ref=ref)
    offset, epoch = raw.get("offset"), raw.get("epoch")
    if (
        not isinstance(offset, int)
        or isinstance(offset, bool)
        or not 0 <= offset < 2**63
        or not isinstance(epoch, str)
        or not EPOCH_RE.fullmatch(epoch)
    ):
        raise ProtocolError(
            "realtime.invalid_message",
            "since needs an integer offset >= 0 and the epoch string of a previous message",
            ref=ref,
        )
    return Since(offset, epoch)


def parse_client_frame(text: str) -> ClientFrame:
    """Validate one client frame; raise `ProtocolError` with a stable code otherwise."""
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError("realtime.malformed", "frames must be JSON objects") from exc
    if not isinstance(raw, dict):
        raise ProtocolError("realtime.malformed", "frames must be JSON objects")
    ref = _ref(raw.get("ref"))
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise ProtocolError(
            "realtime.unknown_type",
            f"type must be one of {', '.join(sorted(CLIENT_TYPES))}",
            ref=ref,
        )
    if kind in ("ping", "pong"):
        return ClientFrame(kind, ref=ref)
    if kind == "auth":
        token = raw.get("token")
        if not isinstance(token, str) or not 0 < len(token) <= 8192:
            raise ProtocolError("realtime.invalid_message", "auth needs a token", ref=ref)
        return ClientFrame(kind, ref=ref, token=token)
    channel = _channel(raw.get("channel"), ref)
    if kind == "subscribe":
        return ClientFrame(kind, ref=ref, channel=channel, since=_since(raw.get("since"), ref))
    if kind == "unsubscribe":
        return ClientFrame(kind, ref=ref, channel=channel)
    data = raw.get("data")
    if not isinstance(data, dict):
        raise ProtocolError("realtime.invalid_message", "publish needs a data object", ref=ref)
    return ClientFrame(kind, ref=ref, channel=channel, data=data)
