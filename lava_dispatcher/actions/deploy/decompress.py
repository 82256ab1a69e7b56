"""The ``compression:`` of a downloaded artefact undone: gz, xz and bz2 as the chunks arrive, zip and zstd on the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lava_common.exceptions import InfrastructureError, JobError

STREAMED = ("gz", "xz", "bz2")


class StreamDecoder:
    """``decompress(chunk)`` for each chunk in turn, then ``truncated``; a file of several members
    (``pbzip2`` writes them, ``cat`` joins them) is decoded whole."""

    def __init__(self, compression: str) -> None:
        self.compression = compression
        self._member = self._new_member()

    def _new_member(self) -> Any:
        # imported here: a job loads only the codec its artefact names
        if self.compression == "gz":
            import zlib

            return zlib.decompressobj(wbits=47)
        if self.compression == "xz":
            import lzma

            return lzma.LZMADecompressor()
        import bz2

        return bz2.BZ2Decompressor()

    def decompress(self, chunk: bytes) -> bytes:
        """The decoded bytes of ``chunk``; raises what the codec raises on bad data."""
        out = [self._member.decompress(chunk)]
        while self._member.eof and self._member.unused_data:
            rest = self._member.unused_data
            self._member = self._new_member()
            out.append(self._member.decompress(rest))
        return b"".join(out)

    @property
    def truncated(self) -> bool:
        """Whether the data ended before the end marker of its last member."""
        return not self._member.eof


def decode_errors() -> tuple[type[BaseException], ...]:
    """What a codec raises on bad data (bz2's errors are OSError and EOFError)."""
    import lzma
    import zlib

    return zlib.error, lzma.LZMAError, OSError, EOFError


def decompress_file(raw: Path, out: Path, compression: str) -> None:
    """The codecs that need the whole file: zip (one member) and zstd (through the ``zstd`` program)."""
    if compression == "zip":
        _unzip(raw, out)
        return
    import shutil
    import subprocess

    if not shutil.which("zstd"):
        raise InfrastructureError("zstd decompression needs the 'zstd' program on the worker")
    proc = subprocess.run(["zstd", "-d", "-q", "-f", "-o", str(out), str(raw)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise JobError(f"cannot decompress '{raw.name}' (zstd): {proc.stderr.strip()}")


def _unzip(raw: Path, out: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(raw) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) != 1:
                raise JobError(f"'{raw.name}' (zip) must hold exactly one file, not {len(members)}")
            with archive.open(members[0]) as src, out.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    except (zipfile.BadZipFile, OSError) as exc:
        raise JobError(f"cannot decompress '{raw.name}' (zip): {exc}") from exc
