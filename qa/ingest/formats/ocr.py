"""Scanned PDF pages read offline by Tesseract (Debian's tesseract-ocr and tesseract-ocr-eng),
through pytesseract. The page's embedded images are read as they are: a scan is an image, so no
PDF renderer is needed. Without the engine the file is skipped, with the install in the message.
"""

from __future__ import annotations

from typing import Any

from qa.errors import DocumentError

LANGUAGES = "eng"  # Tesseract's trained data installed beside it (tesseract-ocr-eng)
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-eng"
MIN_SIDE = 32  # pixels; smaller images are icons and rules, not text
TIMEOUT_S = 120  # per image: a page that takes longer is not a page of text


def has_images(page: Any) -> bool:
    """True when the page draws at least one image (it may be a scan)."""
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        return any(xobjects[k].get_object().get("/Subtype") == "/Image" for k in xobjects)
    except (AttributeError, KeyError, TypeError, ValueError):
        return False


def read_page(page: Any, name: str, number: int) -> str:
    """The text Tesseract reads in the page's images, top to bottom as the page stores them."""
    import pytesseract

    parts = []
    for image in page.images:
        picture = image.image
        if picture is None or min(picture.size) < MIN_SIDE:
            continue
        try:
            parts.append(pytesseract.image_to_string(picture, lang=LANGUAGES, timeout=TIMEOUT_S).strip())
        except pytesseract.TesseractNotFoundError as exc:
            raise DocumentError(f"{name}: page {number} is a scan and no OCR engine is installed — {INSTALL}") from exc
        except (pytesseract.TesseractError, RuntimeError) as exc:
            raise DocumentError(f"{name}: OCR failed on page {number} ({exc}) — check {INSTALL}") from exc
    return "\n".join(p for p in parts if p)
