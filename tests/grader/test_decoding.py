"""Undoing Content-Encoding chunk by chunk: what arrives in pieces, corrupt or without end."""

from __future__ import annotations

import zlib

import pytest

from grader.decoding import BodyDecoder, DecodedTooLarge, DecodingError

BODY = "".join(f"data: event {n} ✓\n\n" for n in range(50)).encode()
WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "raw deflate": -zlib.MAX_WBITS}
HEADER = {"gzip": "gzip", "deflate": "deflate", "raw deflate": "deflate"}
CAP = 1 << 20


def compress(kind: str, data: bytes = BODY) -> bytes:
    """``data`` in one of the codings (raw deflate is what some servers send as deflate)."""
    squeeze = zlib.compressobj(6, zlib.DEFLATED, WBITS[kind])
    return squeeze.compress(data) + squeeze.flush()


def decode(coding: str, pieces: list[bytes], cap: int = CAP) -> bytes:
    """Feed the pieces one by one, then end the body."""
    decoder = BodyDecoder(coding, cap)
    return b"".join(decoder.feed(piece) for piece in pieces) + decoder.flush()


@pytest.mark.parametrize("kind", WBITS)
def test_a_body_arriving_byte_by_byte_decodes_whole(kind: str) -> None:
    encoded = compress(kind)
    assert decode(HEADER[kind], [encoded[i : i + 1] for i in range(len(encoded))]) == BODY


@pytest.mark.parametrize("coding", ["", "identity", " Identity "])
def test_no_coding_passes_the_body_through(coding: str) -> None:
    assert decode(coding, [BODY[:7], BODY[7:]]) == BODY


def test_what_follows_the_end_of_a_gzip_stream_is_ignored() -> None:
    assert decode("gzip", [compress("gzip") + b"trailing garbage"]) == BODY


def test_codings_are_undone_last_applied_first() -> None:
    twice = compress("gzip", compress("deflate"))
    assert decode("deflate, gzip", [twice]) == BODY


@pytest.mark.parametrize("kind", ["gzip", "deflate"])
def test_a_corrupt_body_names_its_coding(kind: str) -> None:
    broken = bytearray(compress(kind))
    broken[len(broken) // 2 :] = b"\xff" * (len(broken) - len(broken) // 2)
    with pytest.raises(DecodingError, match=f"the {kind}-encoded body is corrupt"):
        decode(kind, [bytes(broken)])


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip, compress"])
def test_a_coding_never_asked_for_is_refused_by_name(coding: str) -> None:
    with pytest.raises(DecodingError, match="never asked for"):
        BodyDecoder(coding, CAP)


def test_a_bomb_stops_at_the_cap_without_decoding_it_all() -> None:
    bomb = compress("gzip", b"\0" * (64 << 20))
    decoder = BodyDecoder("gzip", CAP)
    with pytest.raises(DecodedTooLarge):
        decoder.feed(bomb)
    assert decoder.size <= CAP


def test_the_cap_counts_every_chunk() -> None:
    squeeze = zlib.compressobj(6, zlib.DEFLATED, WBITS["gzip"])
    decoder = BodyDecoder("gzip", len(BODY) * 2)
    for _ in range(2):
        decoder.feed(squeeze.compress(BODY) + squeeze.flush(zlib.Z_SYNC_FLUSH))
    with pytest.raises(DecodedTooLarge):
        decoder.feed(squeeze.compress(b"x") + squeeze.flush(zlib.Z_SYNC_FLUSH))
