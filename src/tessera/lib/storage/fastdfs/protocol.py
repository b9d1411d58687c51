"""FastDFS wire format: request encoders, reply decoders, file ids and remote filenames.

Everything here is pure (no I/O), so each byte layout can be checked against recorded
captures without a network and the client stays a thin layer of sockets and pools on top.
"""

from __future__ import annotations

import base64
import binascii
import errno
import ipaddress
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from tessera.lib.storage.errors import (
    StorageError,
    StorageFull,
    StorageInvalidRequest,
    StorageNotFound,
    StorageProtocolError,
)

HEADER = struct.Struct(">QBB")
HEADER_SIZE = HEADER.size
U64 = struct.Struct(">Q")

GROUP_NAME_SIZE = 16
EXT_NAME_SIZE = 6
# The IP field is 16/46 bytes in query-file-info and one byte shorter in tracker replies
# (the C structs reserve room for a NUL there); the reply length tells the client which mode
# the cluster runs in, see PROTOCOL.md section 6.
IPV4_ADDR_SIZE = 16
IPV6_ADDR_SIZE = 46
STORE_REPLY_SIZES = {
    GROUP_NAME_SIZE + IPV4_ADDR_SIZE - 1 + 8 + 1: IPV4_ADDR_SIZE - 1,
    GROUP_NAME_SIZE + IPV6_ADDR_SIZE - 1 + 8 + 1: IPV6_ADDR_SIZE - 1,
}
FETCH_REPLY_SIZES = {
    GROUP_NAME_SIZE + IPV4_ADDR_SIZE - 1 + 8: IPV4_ADDR_SIZE - 1,
    GROUP_NAME_SIZE + IPV6_ADDR_SIZE - 1 + 8: IPV6_ADDR_SIZE - 1,
}
FILE_INFO_REPLY_SIZES = {
    3 * 8 + IPV4_ADDR_SIZE: IPV4_ADDR_SIZE,
    3 * 8 + IPV6_ADDR_SIZE: IPV6_ADDR_SIZE,
}
# The C client refuses upload replies outside (16, 16 + 128]; so do we.
MAX_REMOTE_FILENAME_SIZE = 128
# The tracker answers EINVAL unless 38 <= len(group + filename) < 144.
MAX_FILE_ID_FILENAME_SIZE = 127
MAX_META_NAME_SIZE = 64
MAX_META_VALUE_SIZE = 256
META_RECORD_SEPARATOR = b"\x01"
META_FIELD_SEPARATOR = b"\x02"
STORE_PATH_ANY = 0xFF

SET_METADATA_OVERWRITE = ord("O")
SET_METADATA_MERGE = ord("M")
FILE_INFO_NO_CRC = 1
FILE_INFO_QUIET = 2

# Statuses after which both servers keep the connection open (captures show it for ENOENT);
# after anything else, in particular EINVAL, the storage hangs up, so we never reuse it.
KEEPALIVE_STATUSES = frozenset({0, errno.ENOENT})

# Remote-filename layout constants (storage/trunk_mgr and fdfs_define.h).
_LOGIC_PATH_SIZE = 10  # "M00/00/00/"
_BASE64_SIZE = 27  # 20 bytes, unpadded
_NORMAL_FILENAME_SIZE = _LOGIC_PATH_SIZE + _BASE64_SIZE + 1 + EXT_NAME_SIZE  # 44
_TRUNK_FILENAME_SIZE = _NORMAL_FILENAME_SIZE + 16  # 60: the trunk location adds 16 chars
_APPENDER_FLAG = 1 << 58
_TRUNK_FLAG = 1 << 59
_RANDOMIZED_SIZE_FLAG = 1 << 63
_MAX_SERVER_ID = (1 << 24) - 1

_GROUP_RE = re.compile(r"[A-Za-z0-9]{1,16}")
_REMOTE_FILENAME_RE = re.compile(r"M[0-9A-F]{2}/[0-9A-F]{2}/[0-9A-F]{2}/[A-Za-z0-9._-]+")
_EXT_RE = re.compile(r"[A-Za-z0-9._-]{0,6}")
_BASE64_RE = re.compile(r"[A-Za-z0-9_-]{27}")


class Cmd(IntEnum):
    """Command codes (tracker_proto.h); every response carries RESPONSE."""

    RESPONSE = 100
    QUIT = 82
    ACTIVE_TEST = 111
    TRACKER_QUERY_STORE_WITHOUT_GROUP_ONE = 101
    TRACKER_QUERY_FETCH_ONE = 102
    TRACKER_QUERY_UPDATE = 103
    TRACKER_QUERY_STORE_WITH_GROUP_ONE = 104
    STORAGE_UPLOAD_FILE = 11
    STORAGE_DELETE_FILE = 12
    STORAGE_SET_METADATA = 13
    STORAGE_DOWNLOAD_FILE = 14
    STORAGE_GET_METADATA = 15
    STORAGE_QUERY_FILE_INFO = 22
    STORAGE_UPLOAD_APPENDER_FILE = 23
    STORAGE_APPEND_FILE = 24


@dataclass(frozen=True, slots=True)
class StorageServer:
    """A storage server named by a tracker (reply to 102/103)."""

    group: str
    host: str
    port: int

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)


@dataclass(frozen=True, slots=True)
class StoreTarget:
    """Where to upload (reply to 101/104); the path index goes back in the upload request."""

    group: str
    host: str
    port: int
    store_path_index: int

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)


@dataclass(frozen=True, slots=True)
class FileInfo:
    """Reply to query-file-info (22): what the storage knows about a stored file."""

    size: int
    create_timestamp: int
    crc32: int
    source_ip: str


@dataclass(frozen=True, slots=True)
class FileId:
    """A validated `group/Mxx/HH/HH/name` id, split at the first slash like the C client."""

    group: str
    remote_filename: str

    def __str__(self) -> str:
        return f"{self.group}/{self.remote_filename}"


@dataclass(frozen=True, slots=True)
class RemoteFilenameInfo:
    """What a remote filename encodes (PROTOCOL.md section 7), decoded without any I/O.

    Exactly one of `source_ip` / `source_id` is set. `size` is None for appender files,
    whose name carries no size (ask the storage with file_info instead).
    """

    store_path_index: int
    source_ip: str | None
    source_id: int | None
    create_timestamp: int
    size: int | None
    crc32: int
    is_appender: bool
    is_trunk: bool
    is_slave: bool
    extension: str


def error_for_status(status: int, operation: str) -> StorageError:
    """Translate a non-zero response status (a Linux errno) into a storage error."""
    name = errno.errorcode.get(status, "unknown errno")
    message = f"FastDFS {operation} failed: status {status} ({name})"
    if status == errno.ENOENT:
        return StorageNotFound(message)
    if status == errno.ENOSPC:
        return StorageFull(message)
    if status == errno.EINVAL:
        return StorageInvalidRequest(message)
    return StorageError(message)


# -- fields ------------------------------------------------------------------------------------


def _fixed(value: str, size: int, what: str) -> bytes:
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError:
        raise StorageInvalidRequest(f"{what} must be ASCII: {value!r}") from None
    if len(raw) > size:
        raise StorageInvalidRequest(f"{what} is longer than {size} bytes: {value!r}")
    return raw.ljust(size, b"\0")


def _text(field: bytes, what: str) -> str:
    raw = field.split(b"\0", 1)[0]
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise StorageProtocolError(f"{what} in reply is not ASCII: {raw!r}") from None


def encode_header(body_length: int, cmd: int, status: int = 0) -> bytes:
    return HEADER.pack(body_length, cmd, status)


def decode_header(data: bytes) -> tuple[int, int, int]:
    """Return (body_length, cmd, status) of a 10-byte header."""
    if len(data) != HEADER_SIZE:
        raise StorageProtocolError(f"header must be {HEADER_SIZE} bytes, got {len(data)}")
    body_length, cmd, status = HEADER.unpack(data)
    return int(body_length), int(cmd), int(status)


# -- file ids and names ----------------------------------------------------------------------


def validate_group(group: str) -> str:
    if not _GROUP_RE.fullmatch(group):
        raise StorageInvalidRequest(f"invalid FastDFS group name: {group!r}")
    return group


def parse_file_id(file_id: str) -> FileId:
    """Split and validate `group/M00/HH/HH/name`; raise StorageInvalidRequest if malformed."""
    group, sep, remote = file_id.partition("/")
    if not sep:
        raise StorageInvalidRequest(f"invalid FastDFS file id (no '/'): {file_id!r}")
    validate_group(group)
    if len(remote) > MAX_FILE_ID_FILENAME_SIZE or not _REMOTE_FILENAME_RE.fullmatch(remote):
        raise StorageInvalidRequest(f"invalid FastDFS remote filename in {file_id!r}")
    return FileId(group, remote)


def normalize_ext(ext: str) -> str:
    """Accept `txt` or `.txt`; the storage itself rejects anything outside [A-Za-z0-9._-]."""
    ext = ext.removeprefix(".")
    if not _EXT_RE.fullmatch(ext):
        raise StorageInvalidRequest(f"invalid file extension (max 6 of [A-Za-z0-9._-]): {ext!r}")
    return ext


def decode_remote_filename(remote_filename: str) -> RemoteFilenameInfo:
    """Decode source, timestamp, size, CRC32 and file type from `Mxx/HH/HH/<name>`."""
    if not _REMOTE_FILENAME_RE.fullmatch(remote_filename):
        raise StorageInvalidRequest(f"invalid FastDFS remote filename: {remote_filename!r}")
    encoded = remote_filename[_LOGIC_PATH_SIZE : _LOGIC_PATH_SIZE + _BASE64_SIZE]
    if not _BASE64_RE.fullmatch(encoded):
        raise StorageInvalidRequest(f"remote filename too short to decode: {remote_filename!r}")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=")
    except (binascii.Error, ValueError):
        raise StorageInvalidRequest(f"undecodable remote filename: {remote_filename!r}") from None
    source, timestamp, size_word, crc = struct.unpack(">IIQI", raw)

    source_ip: str | None = None
    source_id: int | None = None
    if 0 < source <= _MAX_SERVER_ID:
        source_id = source
    else:
        source_ip = str(ipaddress.IPv4Address(source))

    is_appender = bool(size_word & _APPENDER_FLAG)
    is_trunk = bool(size_word & _TRUNK_FLAG)
    size: int | None
    if is_appender:
        size = None
    elif size_word & _RANDOMIZED_SIZE_FLAG or is_trunk:
        # Small files get 0x80000000|random in the high word to make names unguessable;
        # the real size is only the low word then.
        size = size_word & 0xFFFFFFFF
    else:
        size = size_word

    length = len(remote_filename)
    is_slave = length > _TRUNK_FILENAME_SIZE or (length > _NORMAL_FILENAME_SIZE and not is_trunk)
    tail = remote_filename[_LOGIC_PATH_SIZE + _BASE64_SIZE :]
    extension = tail.rsplit(".", 1)[1] if "." in tail else ""
    return RemoteFilenameInfo(
        store_path_index=int(remote_filename[1:3], 16),
        source_ip=source_ip,
        source_id=source_id,
        create_timestamp=timestamp,
        size=size,
        crc32=crc,
        is_appender=is_appender,
        is_trunk=is_trunk,
        is_slave=is_slave,
        extension=extension,
    )


# -- metadata --------------------------------------------------------------------------------


def encode_metadata(metadata: Mapping[str, str]) -> bytes:
    """`name\\x02value` records joined by `\\x01`, in the caller's order.

    The C splitter silently truncates long names/values; we refuse them instead, so what is
    read back is always what was written.
    """
    records: list[bytes] = []
    for name, value in metadata.items():
        raw_name = name.encode("utf-8")
        raw_value = value.encode("utf-8")
        if not raw_name:
            raise StorageInvalidRequest("metadata names must not be empty")
        if len(raw_name) > MAX_META_NAME_SIZE:
            raise StorageInvalidRequest(f"metadata name longer than 64 bytes: {name!r}")
        if len(raw_value) > MAX_META_VALUE_SIZE:
            raise StorageInvalidRequest(f"metadata value of {name!r} longer than 256 bytes")
        for part in (raw_name, raw_value):
            if b"\x00" in part or META_RECORD_SEPARATOR in part or META_FIELD_SEPARATOR in part:
                raise StorageInvalidRequest(f"metadata {name!r} contains a separator byte")
        records.append(raw_name + META_FIELD_SEPARATOR + raw_value)
    return META_RECORD_SEPARATOR.join(records)


def decode_metadata(data: bytes) -> dict[str, str]:
    """Inverse of encode_metadata; records without a field separator are skipped, as in C."""
    result: dict[str, str] = {}
    if not data:
        return result
    for record in data.split(META_RECORD_SEPARATOR):
        name, sep, value = record.partition(META_FIELD_SEPARATOR)
        if not sep:
            continue
        result[name.decode("utf-8", errors="replace")] = value.decode("utf-8", errors="replace")
    return result


# -- requests --------------------------------------------------------------------------------


def _group_and_filename(cmd: int, group: str, remote_filename: str, status: int = 0) -> bytes:
    body = _fixed(group, GROUP_NAME_SIZE, "group name") + remote_filename.encode("ascii")
    return encode_header(len(body), cmd, status) + body


def encode_active_test() -> bytes:
    return encode_header(0, Cmd.ACTIVE_TEST)


def encode_quit() -> bytes:
    return encode_header(0, Cmd.QUIT)


def encode_query_store(group: str | None = None) -> bytes:
    if group is None:
        return encode_header(0, Cmd.TRACKER_QUERY_STORE_WITHOUT_GROUP_ONE)
    body = _fixed(group, GROUP_NAME_SIZE, "group name")
    return encode_header(len(body), Cmd.TRACKER_QUERY_STORE_WITH_GROUP_ONE) + body


def encode_query_fetch(group: str, remote_filename: str) -> bytes:
    return _group_and_filename(Cmd.TRACKER_QUERY_FETCH_ONE, group, remote_filename)


def encode_query_update(group: str, remote_filename: str) -> bytes:
    return _group_and_filename(Cmd.TRACKER_QUERY_UPDATE, group, remote_filename)


def encode_upload_head(cmd: int, store_path_index: int, size: int, ext: str) -> bytes:
    """Header plus the 15 fixed bytes of an upload (11) or appender upload (23).

    The content follows on the wire, so the caller can stream it without concatenating.
    """
    fixed = bytes([store_path_index]) + U64.pack(size) + _fixed(ext, EXT_NAME_SIZE, "extension")
    return encode_header(len(fixed) + size, cmd) + fixed


def encode_append_head(remote_filename: str, size: int) -> bytes:
    """Header plus fixed part of append (24); the content follows, as for uploads."""
    name = remote_filename.encode("ascii")
    fixed = U64.pack(len(name)) + U64.pack(size) + name
    return encode_header(len(fixed) + size, Cmd.STORAGE_APPEND_FILE) + fixed


def encode_delete(group: str, remote_filename: str) -> bytes:
    return _group_and_filename(Cmd.STORAGE_DELETE_FILE, group, remote_filename)


def encode_get_metadata(group: str, remote_filename: str) -> bytes:
    return _group_and_filename(Cmd.STORAGE_GET_METADATA, group, remote_filename)


def encode_query_file_info(group: str, remote_filename: str, flags: int = 0) -> bytes:
    # The flags travel in the header's status byte, the one request where that byte is used.
    return _group_and_filename(Cmd.STORAGE_QUERY_FILE_INFO, group, remote_filename, flags)


def encode_set_metadata(group: str, remote_filename: str, metadata: bytes, flag: int) -> bytes:
    name = remote_filename.encode("ascii")
    body = b"".join(
        (
            U64.pack(len(name)),
            U64.pack(len(metadata)),
            bytes([flag]),
            _fixed(group, GROUP_NAME_SIZE, "group name"),
            name,
            metadata,
        )
    )
    return encode_header(len(body), Cmd.STORAGE_SET_METADATA) + body


def encode_download(group: str, remote_filename: str, offset: int, count: int) -> bytes:
    """Download request; count 0 means "to the end of the file" on the wire."""
    body = (
        U64.pack(offset)
        + U64.pack(count)
        + _fixed(group, GROUP_NAME_SIZE, "group name")
        + remote_filename.encode("ascii")
    )
    return encode_header(len(body), Cmd.STORAGE_DOWNLOAD_FILE) + body


# -- replies ---------------------------------------------------------------------------------


def decode_store_reply(body: bytes) -> StoreTarget:
    ip_size = STORE_REPLY_SIZES.get(len(body))
    if ip_size is None:
        raise StorageProtocolError(f"query-store reply must be 40 or 70 bytes, got {len(body)}")
    port_at = GROUP_NAME_SIZE + ip_size
    return StoreTarget(
        group=_text(body[:GROUP_NAME_SIZE], "group name"),
        host=_text(body[GROUP_NAME_SIZE:port_at], "storage IP"),
        port=U64.unpack_from(body, port_at)[0],
        store_path_index=body[port_at + 8],
    )


def decode_fetch_reply(body: bytes) -> StorageServer:
    ip_size = FETCH_REPLY_SIZES.get(len(body))
    if ip_size is None:
        raise StorageProtocolError(f"query-fetch reply must be 39 or 69 bytes, got {len(body)}")
    port_at = GROUP_NAME_SIZE + ip_size
    return StorageServer(
        group=_text(body[:GROUP_NAME_SIZE], "group name"),
        host=_text(body[GROUP_NAME_SIZE:port_at], "storage IP"),
        port=U64.unpack_from(body, port_at)[0],
    )


def decode_upload_reply(body: bytes) -> FileId:
    if not GROUP_NAME_SIZE < len(body) <= GROUP_NAME_SIZE + MAX_REMOTE_FILENAME_SIZE:
        raise StorageProtocolError(f"upload reply has invalid length {len(body)}")
    group = _text(body[:GROUP_NAME_SIZE], "group name")
    remote = _text(body[GROUP_NAME_SIZE:], "remote filename")
    if not _GROUP_RE.fullmatch(group) or not _REMOTE_FILENAME_RE.fullmatch(remote):
        raise StorageProtocolError(f"upload reply names an invalid file id {group}/{remote}")
    return FileId(group, remote)


def decode_file_info_reply(body: bytes) -> FileInfo:
    ip_size = FILE_INFO_REPLY_SIZES.get(len(body))
    if ip_size is None:
        raise StorageProtocolError(f"file-info reply must be 40 or 70 bytes, got {len(body)}")
    size, timestamp, crc = struct.unpack_from(">QQQ", body)
    return FileInfo(
        size=size,
        create_timestamp=timestamp,
        crc32=crc & 0xFFFFFFFF,
        source_ip=_text(body[24 : 24 + ip_size], "source IP"),
    )
