"""Reading text files whose encoding the sender did not tell us."""

from __future__ import annotations

import hashlib
from pathlib import Path

from charset_normalizer import from_bytes

from ingest.core import SourceError

# Chinese exports are GBK more often than not; GB18030 is its superset.
FALLBACK_ENCODINGS = ("gb18030",)


def content_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes, where: Path | str) -> tuple[str, str]:
    """Return (text, encoding); UTF-8 first, then GBK, else fail naming the guess."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    for enc in FALLBACK_ENCODINGS:
        try:
            return data.decode(enc), "gbk" if enc == "gb18030" else enc
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    guess = best.encoding if best else "unknown"
    raise SourceError(
        f"{where}: cannot decode as UTF-8 or GBK (looks like {guess}); re-export it as UTF-8 or GBK"
    )
