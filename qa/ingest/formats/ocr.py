"""Scanned PDF pages read offline by Tesseract (Debian's tesseract-ocr and tesseract-ocr-eng),
through pytesseract. The page's embedded images are read as they are: a scan is an image, so no
PDF renderer is needed. Without the engine the file is skipped, with the install in the message.

The text is laid out from where Tesseract saw each line (its TSV output), not from its own blocks:
a blank line only where the page leaves space between lines. Tesseract's block and paragraph
boundaries fall inside paragraphs too ("... on 18" / "" / "October."), and a blank line ends a
sentence for the chunker, so a scanned paragraph was quoted in halves.
"""

from __future__ import annotations

import itertools
import statistics
from typing import Any

from qa.errors import DocumentError

LANGUAGES = "eng"  # Tesseract's trained data installed beside it (tesseract-ocr-eng)
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-eng"
MIN_SIDE = 32  # pixels; smaller images are icons and rules, not text
TIMEOUT_S = 120  # per image: a page that takes longer is not a page of text
PARAGRAPH_GAP = 1.6  # times the page's usual line pitch: more space above a line starts a paragraph


def has_images(page: Any) -> bool:
    """True when the page draws at least one image (it may be a scan)."""
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        return any(xobjects[k].get_object().get("/Subtype") == "/Image" for k in xobjects)
    except (AttributeError, KeyError, TypeError, ValueError):
        return False


Sized = list[tuple[int, int, float]]  # (start, end, height in pixels) of each line of a page's text


def read_page(page: Any, name: str, number: int) -> tuple[str, Sized]:
    """The text Tesseract reads in the page's images, top to bottom as the page stores them, and
    each line's span in it with the height its words are set at (the median word's, in pixels)."""
    import pytesseract

    text, sized = "", []
    for image in page.images:
        picture = image.image
        if picture is None or min(picture.size) < MIN_SIDE:
            continue
        try:
            data = pytesseract.image_to_data(picture, lang=LANGUAGES, timeout=TIMEOUT_S, output_type=pytesseract.Output.DICT)
        except pytesseract.TesseractNotFoundError as exc:
            raise DocumentError(f"{name}: page {number} is a scan and no OCR engine is installed — {INSTALL}") from exc
        except (pytesseract.TesseractError, RuntimeError) as exc:
            raise DocumentError(f"{name}: OCR failed on page {number} ({exc}) — check {INSTALL}") from exc
        part, lines = lay_out(data)
        if part:
            at = len(text) + (1 if text else 0)
            text += ("\n" if text else "") + part
            sized += [(a + at, b + at, h) for a, b, h in lines]
    return text, sized


def lay_out(data: dict[str, list[Any]]) -> tuple[str, Sized]:
    """Tesseract's words (image_to_data) as lines in its reading order, a blank line between two
    only where the space above the second is over PARAGRAPH_GAP times the usual pitch, or where it
    starts higher up the page (the next column); with each line's span and median word height."""
    lines: dict[tuple[int, int, int], list[int]] = {}  # (block, paragraph, line) -> word indexes, in order
    for i, word in enumerate(data.get("text", [])):
        if str(word).strip():
            key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
            lines.setdefault(key, []).append(i)
    rows = [  # (top, height, text) of each line
        (
            min(int(data["top"][i]) for i in ws),
            float(statistics.median(int(data["height"][i]) for i in ws)),
            " ".join(str(data["text"][i]).strip() for i in ws),
        )
        for ws in lines.values()
    ]
    if not rows:
        return "", []
    steps = sorted(b[0] - a[0] for a, b in itertools.pairwise(rows) if b[0] > a[0])
    pitch = steps[len(steps) // 4] if steps else 0  # the usual step: a short page may have more gaps than lines
    text, sized = rows[0][2], [(0, len(rows[0][2]), rows[0][1])]
    for (top, _, _), (next_top, height, line) in itertools.pairwise(rows):
        apart = next_top <= top or (pitch > 0 and next_top - top > PARAGRAPH_GAP * pitch)
        text += "\n\n" if apart else "\n"
        sized.append((len(text), len(text) + len(line), height))
        text += line
    return text, sized
