"""Pure wire-format pieces: the remote-filename decoder (PROTOCOL.md section 7), file ids,
metadata encoding, reply decoders in IPv4 and IPv6 layouts, and status mapping."""

from __future__ import annotations

import base64
import struct

import pytest

from tessera.lib.storage.errors import (
    StorageError,
    StorageFull,
    StorageInvalidRequest,
    StorageNotFound,
    StorageProtocolError,
)
from tessera.lib.storage.fastdfs import (
    FileId,
    FileInfo,
    StorageServer,
    StoreTarget,
    decode_remote_filename,
    parse_address,
    parse_file_id,
)
from tessera.lib.storage.fastdfs.protocol import (
    decode_fetch_reply,
    decode_file_info_reply,
    decode_metadata,
    decode_store_reply,
    decode_upload_reply,
    encode_metadata,
    error_for_status,
    normalize_ext,
)


def make_name(
    source: int,
    timestamp: int,
    size_word: int,
    crc: int,
    suffix: str = "123.txt",
    extra: str = "",
) -> str:
    raw = struct.pack(">IIQI", source, timestamp, size_word, crc)
    encoded = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"M00/00/00/{encoded}{extra}{suffix}"


# -- remote filename decoder ----------------------------------------------------------------


def test_decodes_the_protocol_example() -> None:
    info = decode_remote_filename("M00/00/00/fwAAAWsIRByAP4FYAAAACw1KEYU176.txt")
    assert info.source_ip == "127.0.0.1"
    assert info.source_id is None
    assert info.create_timestamp == 1795703836 == 0x6B08441C
    assert info.size == 11
    assert info.crc32 == 0x0D4A1185
    assert info.store_path_index == 0
    assert info.extension == "txt"
    assert (info.is_appender, info.is_trunk, info.is_slave) == (False, False, False)


def test_decodes_the_appender_example() -> None:
    # Size word 8435497a00000000: appender bit 58 set, size bits 0 -> size unknown.
    info = decode_remote_filename("M00/00/00/fwAAAWsIRCuENUl6AAAAAA1KEYU761.txt")
    assert info.is_appender
    assert info.size is None
    assert info.crc32 == 0x0D4A1185  # CRC of the initial content
    assert info.create_timestamp == 0x6B08442B
    assert info.source_ip == "127.0.0.1"


def test_decodes_names_without_extension_and_empty_files() -> None:
    no_ext = decode_remote_filename("M00/00/00/fwAAAWsIREeAebJ0AAAAAzUkQcI3433018")
    assert (no_ext.size, no_ext.crc32, no_ext.extension) == (3, 0x352441C2, "")
    empty = decode_remote_filename("M00/00/00/fwAAAWsIRHeAZP7NAAAAAAAAAAA444.bin")
    assert (empty.size, empty.crc32, empty.extension) == (0, 0, "bin")


def test_decodes_server_ids_big_files_trunk_and_slave_names() -> None:
    by_id = decode_remote_filename(make_name(5, 1, (0x80000001 << 32) | 7, 9))
    assert (by_id.source_id, by_id.source_ip, by_id.size) == (5, None, 7)

    big = decode_remote_filename(make_name(0x0A000001, 1, 5 << 32, 0))
    assert big.size == 5 << 32  # >= 4 GiB: no random high word, the word is the size
    assert big.source_ip == "10.0.0.1"

    trunk = decode_remote_filename(make_name(0x7F000001, 1, (1 << 59) | 42, 0, extra="A" * 16))
    assert trunk.is_trunk
    assert not trunk.is_slave  # 60 characters is a plain trunk file name
    assert trunk.size == 42

    slave = decode_remote_filename(
        make_name(0x7F000001, 1, (0x80000000 << 32) | 1, 0, "_150x150.jpg")
    )
    assert slave.is_slave
    assert slave.extension == "jpg"

    second_path = decode_remote_filename("M0A" + make_name(1 << 30, 0, 0, 0)[3:])
    assert second_path.store_path_index == 10


@pytest.mark.parametrize(
    "name",
    [
        "M00/00/00/short",
        "m00/00/00/fwAAAWsIRByAP4FYAAAACw1KEYU176.txt",
        "M00/0a/00/fwAAAWsIRByAP4FYAAAACw1KEYU176.txt",
        "M00/00/00/fwAAAWsIRByAP4FY+AAACw1KEYU176.txt",
        "group1/M00/00/00/fwAAAWsIRByAP4FYAAAACw1KEYU176.txt",
    ],
)
def test_decoder_rejects_malformed_names(name: str) -> None:
    with pytest.raises(StorageInvalidRequest):
        decode_remote_filename(name)


# -- file ids, extensions, addresses ------------------------------------------------------


def test_parse_file_id_splits_at_first_slash() -> None:
    file_id = "group1/M00/00/00/fwAAAWsIRByAP4FYAAAACw1KEYU176.txt"
    parsed = parse_file_id(file_id)
    assert parsed == FileId("group1", "M00/00/00/fwAAAWsIRByAP4FYAAAACw1KEYU176.txt")
    assert str(parsed) == file_id


@pytest.mark.parametrize(
    "file_id",
    [
        "",
        "group1",
        "/M00/00/00/abc",
        "group-1/M00/00/00/abc",
        "g" * 17 + "/M00/00/00/abc",
        "group1/M00/00/00/",
        "group1/M00/00/00/a/b",
        "group1/M00/00/00/../../etc",
        "group1/X00/00/00/abc",
        "group1/M00/00/00/" + "a" * 118,
        "group1/M00/00/00/caf\u00e9",
    ],
)
def test_parse_file_id_rejects_malformed(file_id: str) -> None:
    with pytest.raises(StorageInvalidRequest):
        parse_file_id(file_id)


def test_extension_rules() -> None:
    assert normalize_ext(".txt") == "txt"
    assert normalize_ext("tar.gz") == "tar.gz"
    assert normalize_ext("") == ""
    for bad in ("toolongx", "a b", "ä"):
        with pytest.raises(StorageInvalidRequest):
            normalize_ext(bad)


def test_parse_address_forms() -> None:
    assert parse_address("tracker:22122") == ("tracker", 22122)
    assert parse_address(("10.0.0.1", 22122)) == ("10.0.0.1", 22122)
    assert parse_address("[::1]:22122") == ("::1", 22122)
    for bad in ("tracker", "tracker:0", ":22122", "tracker:x"):
        with pytest.raises(ValueError):
            parse_address(bad)


# -- metadata ------------------------------------------------------------------------------


def test_metadata_encoding_matches_the_capture_and_keeps_order() -> None:
    encoded = encode_metadata({"width": "160", "height": "80"})
    assert encoded == bytes.fromhex("77696474680231363001686569676874023830")
    assert list(decode_metadata(encoded).items()) == [("width", "160"), ("height", "80")]
    assert encode_metadata({}) == b""
    assert decode_metadata(b"") == {}
    assert decode_metadata(b"novalue\x01a\x02b") == {"a": "b"}  # C skips such records
    assert decode_metadata("n\x02\u00e9t\u00e9".encode()) == {"n": "\u00e9t\u00e9"}


@pytest.mark.parametrize(
    "metadata",
    [{"": "x"}, {"n" * 65: "x"}, {"n": "v" * 257}, {"a\x01": "b"}, {"a": "b\x02"}, {"a": "\x00"}],
)
def test_metadata_refuses_what_the_server_would_mangle(metadata: dict[str, str]) -> None:
    with pytest.raises(StorageInvalidRequest):
        encode_metadata(metadata)


# -- replies in IPv4 and IPv6 layouts -----------------------------------------------------


def entry(ip_size: int, port: int = 23000) -> bytes:
    return b"group1".ljust(16, b"\0") + b"10.1.2.3".ljust(ip_size, b"\0") + struct.pack(">Q", port)


def test_store_and_fetch_replies_in_both_ip_modes() -> None:
    ipv4_store, ipv6_store = entry(15) + b"\x01", entry(45) + b"\x01"
    assert (len(ipv4_store), len(ipv6_store)) == (40, 70)
    expected = StoreTarget("group1", "10.1.2.3", 23000, 1)
    assert decode_store_reply(ipv4_store) == decode_store_reply(ipv6_store) == expected
    assert (len(entry(15)), len(entry(45))) == (39, 69)
    server = StorageServer("group1", "10.1.2.3", 23000)
    assert decode_fetch_reply(entry(15)) == decode_fetch_reply(entry(45)) == server
    assert server.address == ("10.1.2.3", 23000)
    v6 = b"group1".ljust(16, b"\0") + b"fd00::17".ljust(45, b"\0") + struct.pack(">Q", 1)
    assert decode_fetch_reply(v6).host == "fd00::17"


def test_file_info_reply_in_both_ip_modes() -> None:
    fixed = struct.pack(">QQQ", 17, 1795703856, (0xFFFF << 32) | 0x0C611827)
    for ip_size in (16, 46):
        body = fixed + b"127.0.0.1".ljust(ip_size, b"\0")
        assert decode_file_info_reply(body) == FileInfo(17, 1795703856, 0x0C611827, "127.0.0.1")


@pytest.mark.parametrize("length", [0, 39, 41, 69, 71])
def test_store_reply_of_wrong_length_is_a_protocol_error(length: int) -> None:
    with pytest.raises(StorageProtocolError):
        decode_store_reply(bytes(length))


def test_upload_reply_bounds() -> None:
    group = b"group1".ljust(16, b"\0")
    name = b"M00/00/00/fwAAAWsIRByAP4FYAAAACw1KEYU176.txt"
    assert str(decode_upload_reply(group + name)) == "group1/" + name.decode()
    for bad in (group, group + b"M" * 129, group + b"not a name", b"\xff" * 16 + name):
        with pytest.raises(StorageProtocolError):
            decode_upload_reply(bad)


def test_status_mapping() -> None:
    assert isinstance(error_for_status(2, "x"), StorageNotFound)
    assert isinstance(error_for_status(28, "x"), StorageFull)
    assert isinstance(error_for_status(22, "x"), StorageInvalidRequest)
    other = error_for_status(5, "delete")
    assert type(other) is StorageError
    assert other.code == "storage.error"
    assert "status 5 (EIO)" in str(other)
    codes = [error_for_status(status, "x").code for status in (2, 28, 22)]
    assert codes == ["storage.not_found", "storage.full", "storage.invalid_request"]
