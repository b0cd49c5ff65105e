"""Decode Spark event-log byte streams: plain JSON lines and every codec Spark writes.

Spark names a compressed event log after its codec (`local-1.zstd`, `events_1_app.lz4`) and
writes each codec with its Java library's own stream framing:

- zstd: standard zstd frames (zstd-jni), possibly several one after another;
- lz4: lz4-java's `LZ4BlockOutputStream`, blocks with a 21-byte header that starts with the magic
  `LZ4Block` (not the lz4 frame format);
- snappy: snappy-java's `SnappyOutputStream`, a 16-byte header (`\\x82SNAPPY\\x00`, version,
  compatible version) then `[int32 big-endian length][raw snappy block]` chunks;
- lzf: compress-lzf's `LZFOutputStream`, `ZV` chunks, type 0 (stored) or 1 (compressed).

The codec is read from the name and checked against the first bytes. Every decoder streams in
bounded chunks and stops with `LogFormatError` once more than `limit` decompressed bytes came
out (a guard against decompression bombs). A stream cut in the middle of a block (a log still
being written, or a crashed writer) ends cleanly with `DecodedStream.truncated` set.
Third-party decompressors (zstandard, lz4, cramjam) are imported only when a log needs them.

`LogLines` is the one place that opens the parts of a run (a single file, the parts of a rolling
log, or the members of a History Server zip): it sniffs each part's codec, guards its expansion,
and joins the parts into lines no longer than `MAX_LINE_BYTES`, also when a line is carried from
one part into the next.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

CODECS = ("plain", "lz4", "lzf", "snappy", "zstd")
INPROGRESS_SUFFIX = ".inprogress"
COMPACT_SUFFIX = ".compact"  # Spark's compacted rolling part: `events_<N>_<app>[.<codec>].compact`
DEFAULT_LIMIT = 64 * 1024**3  # 64 GiB of decompressed JSON per run
# A compressed part may not expand more than this many times (Spark's JSON compresses 5-50x
# with zstd, a few hundred times at most for repetitive logs), beyond a floor for tiny parts.
MAX_EXPANSION = 2000
EXPANSION_FLOOR = 256 * 1024**2
# Spark's longest lines (SQL plans) are a few MiB; parsing a line costs up to ~12 times its size.
MAX_LINE_BYTES = 32 * 1024**2

_MAGIC = {
    "zstd": b"\x28\xb5\x2f\xfd",
    "lz4": b"LZ4Block",
    "snappy": b"\x82SNAPPY\x00",
    "lzf": b"ZV",
}
_ZSTD_SKIPPABLE = range(0x184D2A50, 0x184D2A60)
_READ_SIZE = 1 << 20
_LZ4_HEADER = struct.Struct("<8sBiii")  # magic, token, compressed, decompressed, checksum
_LZ4_METHOD_RAW = 0x10
_LZ4_METHOD_LZ4 = 0x20
_LZ4_MAX_BLOCK = 1 << 25  # lz4-java's largest block size (32 MiB)
_SNAPPY_MAX_CHUNK = 1 << 26
_LZF_MAX_CHUNK = 0xFFFF
_INSTALL_HINT = "it is a dependency of sparklint: reinstall with: pip install --force-reinstall sparklint"


class LogFormatError(Exception):
    """A log that cannot be decoded; the message is one line and names the problem."""


class MissingDecoder(LogFormatError):
    """A codec whose optional Python package is not installed."""


def codec_from_name(name: str) -> str | None:
    """The codec a file name announces: `app.zstd`, `events_2_app.lz4.inprogress` -> codec;
    no codec suffix -> "plain"; an unknown suffix that looks like a codec -> None."""
    stem, dot, suffix = _strip_state_suffixes(name).rpartition(".")
    if not dot or not stem:
        return "plain"
    suffix = suffix.lower()
    if suffix in CODECS and suffix != "plain":
        return suffix
    if suffix in ("json", "log", "txt") or not suffix.isalnum() or suffix.isdigit():
        return "plain"
    # Spark app ids and rolling names never hold dots; another extension is another codec.
    return None


def _strip_state_suffixes(name: str) -> str:
    """`events_3_app.zstd.compact.inprogress` -> `events_3_app.zstd`: the suffixes that say what
    state a log is in, not how it is encoded (Spark's `EventLogFileWriter.codecName`)."""
    for _ in range(2):
        name = name.removesuffix(INPROGRESS_SUFFIX).removesuffix(COMPACT_SUFFIX)
    return name


def codec_from_magic(head: bytes) -> str | None:
    """The codec the first bytes of a stream show, "plain" for JSON, None when unknown."""
    for codec, magic in _MAGIC.items():
        if head.startswith(magic):
            return codec
    if len(head) >= 4 and struct.unpack("<I", head[:4])[0] in _ZSTD_SKIPPABLE:
        return "zstd"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return "plain"
    return None


def detect_codec(name: str, head: bytes) -> str:
    """The codec of a log named `name` whose content starts with `head`, checked both ways."""
    by_name = codec_from_name(name)
    by_content = codec_from_magic(head) if head else None
    if not head:
        return by_name or "plain"
    if by_name is None:
        if by_content == "plain":
            return "plain"
        suffix = _strip_state_suffixes(name).rpartition(".")[2]
        raise LogFormatError(f"unknown event log codec {suffix!r} (Spark writes {', '.join(CODECS[1:])})")
    if by_content is None:
        raise LogFormatError(f"content is not a {by_name} event log (unrecognised first bytes {head[:8]!r})")
    if by_content != by_name:
        raise LogFormatError(f"named as {by_name} but the content is {by_content}")
    return by_name


class DecodedStream(io.RawIOBase):
    """A readable raw stream over decoded chunks, counting bytes against a limit."""

    def __init__(self, chunks: Iterator[bytes], limit: int, state: "DecodeState", limit_message: str) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = memoryview(b"")
        self._limit = limit
        self._state = state
        self._limit_message = limit_message

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._state.decoded_bytes += len(chunk)
            if self._state.decoded_bytes > self._limit:
                raise LogFormatError(self._limit_message)
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class DecodeState:
    """What a decoder learned while streaming: bytes out, whether the input ended mid-block."""

    __slots__ = ("decoded_bytes", "truncated")

    def __init__(self) -> None:
        self.decoded_bytes = 0
        self.truncated = False


def open_decoded(raw: BinaryIO, codec: str, limit: int = DEFAULT_LIMIT,
                 limit_message: str | None = None) -> tuple[io.BufferedReader, DecodeState]:
    """A buffered reader of the decoded JSON lines of `raw`, and the state it fills while read.
    Reading past `limit` decoded bytes raises LogFormatError(`limit_message`)."""
    state = DecodeState()
    decoder = _DECODERS[codec]
    chunks = decoder(raw, state)
    message = limit_message or (
        f"more than {limit} bytes after decompression: refusing (raise profile option max-log-bytes)"
    )
    return io.BufferedReader(DecodedStream(chunks, limit, state, message), buffer_size=_READ_SIZE), state


def _plain_chunks(raw: BinaryIO, state: DecodeState) -> Iterator[bytes]:
    while chunk := raw.read(_READ_SIZE):
        yield chunk


def _zstd_chunks(raw: BinaryIO, state: DecodeState) -> Iterator[bytes]:
    zstandard = _import("zstandard", "zstd")
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=False)
    while True:
        try:
            chunk = reader.read(_READ_SIZE)
        except zstandard.ZstdError as error:
            if "incomplete" in str(error).lower() or "truncat" in str(error).lower():
                state.truncated = True
                return
            raise LogFormatError(f"corrupted zstd data: {error}") from None
        if not chunk:
            return
        yield chunk


def _read_exact(raw: BinaryIO, size: int, state: DecodeState) -> bytes | None:
    """`size` bytes, or None (and `truncated`) when the stream ends before them."""
    data = raw.read(size)
    while 0 < len(data) < size:
        more = raw.read(size - len(data))
        if not more:
            break
        data += more
    if len(data) < size:
        if data:
            state.truncated = True
        return None
    return data


def _lz4_chunks(raw: BinaryIO, state: DecodeState) -> Iterator[bytes]:
    lz4_block = _import("lz4.block", "lz4")
    offset = 0
    while True:
        header = raw.read(_LZ4_HEADER.size)
        if not header:
            return
        if len(header) < _LZ4_HEADER.size:
            state.truncated = True
            return
        magic, token, compressed_length, decompressed_length, _checksum = _LZ4_HEADER.unpack(header)
        method = token & 0xF0
        if magic != _MAGIC["lz4"] or method not in (_LZ4_METHOD_RAW, _LZ4_METHOD_LZ4):
            raise LogFormatError(f"corrupted lz4 stream: bad block header at byte {offset}")
        if not (0 <= decompressed_length <= _LZ4_MAX_BLOCK and 0 <= compressed_length <= _LZ4_MAX_BLOCK):
            raise LogFormatError(f"corrupted lz4 stream: impossible block size at byte {offset}")
        offset += _LZ4_HEADER.size
        if decompressed_length == 0:  # the end mark of one stream; another may follow
            continue
        body = _read_exact(raw, compressed_length, state)
        if body is None:
            state.truncated = True
            return
        offset += compressed_length
        if method == _LZ4_METHOD_RAW:
            yield body
            continue
        try:
            block = lz4_block.decompress(body, uncompressed_size=decompressed_length)
        except lz4_block.LZ4BlockError as error:
            raise LogFormatError(f"corrupted lz4 block at byte {offset - compressed_length}: {error}") from None
        if len(block) != decompressed_length:
            raise LogFormatError(f"corrupted lz4 block at byte {offset - compressed_length}: wrong length")
        yield block


def _snappy_chunks(raw: BinaryIO, state: DecodeState) -> Iterator[bytes]:
    cramjam = _import("cramjam", "snappy")
    magic = _MAGIC["snappy"]
    offset = 0
    while True:
        head = raw.read(4)
        if not head:
            return
        if len(head) < 4:
            state.truncated = True
            return
        if head == magic[:4]:  # a (new) stream header: magic, version, compatible version
            rest = _read_exact(raw, 12, state)
            if rest is None:
                state.truncated = True
                return
            if (head + rest)[:8] != magic:
                raise LogFormatError(f"corrupted snappy stream: bad header at byte {offset}")
            offset += 16
            continue
        (length,) = struct.unpack(">i", head)
        if not 0 <= length <= _SNAPPY_MAX_CHUNK:
            raise LogFormatError(f"corrupted snappy stream: impossible chunk length at byte {offset}")
        body = _read_exact(raw, length, state)
        if body is None:
            state.truncated = True
            return
        try:
            yield bytes(cramjam.snappy.decompress_raw(body))
        except Exception as error:  # cramjam raises its own DecompressionError
            raise LogFormatError(f"corrupted snappy chunk at byte {offset}: {error}") from None
        offset += 4 + length


def _lzf_chunks(raw: BinaryIO, state: DecodeState) -> Iterator[bytes]:
    offset = 0
    while True:
        head = raw.read(5)
        if not head:
            return
        if len(head) < 5:
            state.truncated = True
            return
        if head[:2] != b"ZV" or head[2] not in (0, 1):
            raise LogFormatError(f"corrupted lzf stream: bad chunk header at byte {offset}")
        length = struct.unpack(">H", head[3:5])[0]
        if head[2] == 0:
            body = _read_exact(raw, length, state)
            if body is None:
                state.truncated = True
                return
            offset += 5 + length
            yield body
            continue
        size_bytes = _read_exact(raw, 2, state)
        if size_bytes is None:
            state.truncated = True
            return
        decompressed_length = struct.unpack(">H", size_bytes)[0]
        body = _read_exact(raw, length, state)
        if body is None:
            state.truncated = True
            return
        try:
            yield lzf_decompress(body, decompressed_length)
        except (IndexError, ValueError) as error:
            raise LogFormatError(f"corrupted lzf chunk at byte {offset}: {error}") from None
        offset += 7 + length


def lzf_decompress(data: bytes, expected_length: int) -> bytes:
    """LibLZF decompression (the format compress-lzf writes inside its `ZV` chunks).

    Each control byte below 32 copies the next `ctrl + 1` bytes; otherwise it is a back
    reference of length `(ctrl >> 5) + 2` (plus an extra length byte when that field is 7) at
    distance `((ctrl & 31) << 8) + next byte + 1`.
    """
    if expected_length > _LZF_MAX_CHUNK:
        raise ValueError("chunk larger than 64 KiB")
    out = bytearray()
    position = 0
    end = len(data)
    while position < end:
        control = data[position]
        position += 1
        if control < 32:
            literal_end = position + control + 1
            if literal_end > end:
                raise ValueError("literal run past the end of the chunk")
            out += data[position:literal_end]
            position = literal_end
            continue
        length = control >> 5
        if length == 7:
            length += data[position]
            position += 1
        distance = ((control & 31) << 8) + data[position] + 1
        position += 1
        length += 2
        start = len(out) - distance
        if start < 0:
            raise ValueError("back reference before the start of the chunk")
        if distance >= length:
            out += out[start : start + length]
        else:  # an overlapping copy repeats the last `distance` bytes
            pattern = out[start:]
            repeats, remainder = divmod(length, distance)
            out += pattern * repeats + pattern[:remainder]
        if len(out) > expected_length:
            raise ValueError("chunk decodes to more bytes than its header says")
    if len(out) != expected_length:
        raise ValueError("chunk decodes to fewer bytes than its header says")
    return bytes(out)


LogPart = tuple[str, BinaryIO, int]  # name, raw stream, size on disk (0 when unknown)
LONG_LINE = None  # what `LogLines` yields in place of a line longer than `MAX_LINE_BYTES`


class LogLines:
    """The lines of one run, read from its parts in order: each line ends with a newline but the
    last one when the log is cut, and `LONG_LINE` stands for a line that was too long to keep.

    A part is its own compressed stream but the parts are one text, so a line cut across parts
    is rejoined; the bound on line length counts the carried bytes too. Decoding more than
    `max_bytes` in all, or more than the expansion guard allows of one part, raises
    LogFormatError naming the part."""

    def __init__(self, parts: Iterable[LogPart], max_bytes: int = DEFAULT_LIMIT) -> None:
        self._parts = parts
        self._max_bytes = max_bytes
        self._max_line = MAX_LINE_BYTES
        self._partial = bytearray()  # the start of a line not ended yet, possibly from an earlier part
        self._skipping = False  # inside a too-long line: drop bytes up to its newline
        self.decoded_bytes = 0
        self.truncated = False

    def __iter__(self) -> Iterator[bytes | None]:
        for name, raw, compressed_size in self._parts:
            with raw:
                try:
                    mid_line = bool(self._partial) or self._skipping
                    reader, state = open_part(name, raw, compressed_size, self._max_bytes - self.decoded_bytes, mid_line)
                    try:
                        yield from self._split(reader)
                    finally:
                        self.decoded_bytes += state.decoded_bytes
                except LogFormatError as error:
                    raise LogFormatError(f"{name}: {error}") from None
                except OSError as error:
                    raise LogFormatError(f"{name}: cannot read ({error})") from None
                self.truncated = self.truncated or state.truncated
        if self._partial:
            yield bytes(self._partial)

    def _split(self, reader: io.BufferedReader) -> Iterator[bytes | None]:
        while True:
            room = _READ_SIZE if self._skipping else self._max_line + 1 - len(self._partial)
            piece = reader.readline(room)
            if not piece:
                return
            ended = piece.endswith(b"\n")
            if self._skipping:
                self._skipping = not ended
            elif not ended:
                self._hold(piece)
                if self._skipping:
                    yield LONG_LINE
            elif self._partial:
                self._partial += piece
                line, self._partial = bytes(self._partial), bytearray()
                yield line
            else:
                yield piece

    def _hold(self, piece: bytes) -> None:
        """Keep the start of an unended line, or give it up once it is longer than the limit."""
        self._partial += piece
        if len(self._partial) > self._max_line:
            self._partial = bytearray()
            self._skipping = True


def open_part(name: str, raw: BinaryIO, compressed_size: int, budget: int,
              mid_line: bool = False) -> tuple[io.BufferedReader, DecodeState]:
    """The decoded stream of one log part: its codec sniffed from the name and the first bytes,
    at most `budget` bytes, and no more than `MAX_EXPANSION` times its size when compressed.
    A plain part that goes on with a line the previous part left open need not start with `{`."""
    head = raw.read(16)
    if mid_line and codec_from_name(name) == "plain" and codec_from_magic(head) is None:
        codec = "plain"
    else:
        codec = detect_codec(name, head)
    limit, message = budget, None
    expansion_limit = max(EXPANSION_FLOOR, MAX_EXPANSION * compressed_size)
    if codec != "plain" and compressed_size and expansion_limit < budget:
        limit = expansion_limit
        message = (f"decompresses to more than {MAX_EXPANSION} times its {compressed_size} bytes: "
                   "refusing a likely decompression bomb")
    return open_decoded(_Prefixed(head, raw), codec, limit, message)


class _Prefixed(io.RawIOBase):
    """A stream that yields `head` then the rest of `raw` (after sniffing the first bytes)."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:  # the decoders call read() directly
        if not self._head:
            return self._raw.read(size)
        if size < 0:
            data, self._head = self._head + self._raw.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        if len(data) < size:
            data += self._raw.read(size - len(data))
        return data


def _import(module: str, codec: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise MissingDecoder(f"reading {codec} event logs needs the Python package {package!r}: {_INSTALL_HINT}") from None


_DECODERS: dict[str, Callable[[BinaryIO, DecodeState], Iterator[bytes]]] = {
    "plain": _plain_chunks,
    "zstd": _zstd_chunks,
    "lz4": _lz4_chunks,
    "snappy": _snappy_chunks,
    "lzf": _lzf_chunks,
}
