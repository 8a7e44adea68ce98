"""Bytes to text: UTF-8 and UTF-16 by their marks and their rules, then the Western single-byte
code pages (cp1252, Latin-1) when the text reads as a Western language, else charset-normalizer.

charset-normalizer alone guesses cp1250 or cp775 for much French and Spanish Latin-1 (the bytes
are valid in each, and its coherence scores tie), storing "Besanńon" for "Besançon". Text that
decodes in cp1252 to words mixing ASCII letters with a few accented ones is Western European: a
Cyrillic, Greek or CJK file read that way is mostly non-ASCII letters and symbols instead.
Measured on 240 samples in five languages: docs/benchmarks/formats.md (bench/bench_encodings.py).
"""

from __future__ import annotations

from qa.errors import DocumentError

# Latin-1 reads 0x80-0x9F as control characters no text holds; cp1252 puts quotes, dashes, € and
# Œ/Š/Ž there, and leaves five of them undefined.
_C1 = {chr(c) for c in range(0x80, 0xA0)}
_WESTERN_LETTERS = set("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿŒœŠšŽžŸ")
_WESTERN_MARKS = set("€‚„…‘’“”•–—«»¡¿°§©®ºª·\u00a0£")
MAX_ACCENTED = 0.35  # share of a Western text's letters that are not ASCII (Portuguese, the most, has ~8%)
MIN_WESTERN = 0.97  # share of its non-ASCII characters that are Western letters or marks


def decode(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with BOM, or plain text without), cp1252 or Latin-1
    when the text reads as Western European, else the encoding charset-normalizer detects."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")  # a cut-off last character is no reason to lose the file
    if b"\x00" in data[:8192]:  # valid UTF-8 can hold NULs, but no text file does
        wide = _utf16_without_bom(data)
        if wide is None:
            raise DocumentError(f"{name}: binary file, not text — remove it or convert it to .txt")
        return wide
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    western = western_text(data)
    if western is not None:
        return western
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DocumentError(f"{name}: unknown text encoding — save it as UTF-8")
    return str(best)


def western_text(data: bytes) -> str | None:
    """`data` read as cp1252 (or Latin-1, where cp1252 leaves a byte undefined), if that reads as
    Western European text; else None."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        if any(ch in _C1 for ch in text):
            return None
    foreign = [ch for ch in text if ord(ch) > 0x7F]
    letters = sum(ch.isalpha() for ch in text)
    accented = sum(ch in _WESTERN_LETTERS for ch in foreign)
    if not letters or accented > MAX_ACCENTED * letters:
        return None
    western = accented + sum(ch in _WESTERN_MARKS for ch in foreign)
    return text if western >= MIN_WESTERN * len(foreign) else None


def _utf16_without_bom(data: bytes) -> str | None:
    """Text saved as UTF-16 without a BOM: every other byte of Latin-script text is NUL."""
    head = data[:8192]
    if len(data) % 2 or len(head) < 4:
        return None
    for zeros, codec in ((head[1::2], "utf-16-le"), (head[0::2], "utf-16-be")):
        if zeros.count(0) >= 0.9 * len(zeros):
            text = data.decode(codec, errors="replace")
            if "\x00" not in text and sum(ch.isprintable() or ch.isspace() for ch in text[:4096]) >= 0.95 * min(len(text), 4096):
                return text
    return None
