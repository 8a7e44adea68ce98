"""Real files of every format, made here with the libraries people's software uses: fpdf2 for
PDFs, Pillow for a scanned page, python-docx for Word."""

from __future__ import annotations

import datetime as dt
import io

CAPTION_FONT_PX = 28


def pdf_pages(pages: list[str], created: dt.datetime | None = None, password: str | None = None) -> bytes:
    """A PDF with one page per string (its lines as the page's lines), made by fpdf2; `password`:
    AES-encrypted with that user password ("" opens without one)."""
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    if created:
        pdf.set_creation_date(created)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    if password is not None:
        pdf.set_encryption(owner_password="owner-secret", user_password=password, encryption_method=EncryptionMethod.AES_256)
    return bytes(pdf.output())


def scanned_pdf(pages: list[list[str]]) -> bytes:
    """A PDF of page images, as a scanner makes: each page's lines drawn into a picture by Pillow."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=CAPTION_FONT_PX)
    images = []
    for lines in pages:
        image = Image.new("L", (1100, 80 + 60 * len(lines)), 255)
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(lines):
            draw.text((40, 40 + 60 * i), line, fill=0, font=font)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return out.getvalue()


def docx_file(blocks: list[tuple[str, str]], created: dt.datetime | None = None, title: str | None = None) -> bytes:
    """A Word file of (style, text) blocks, each a paragraph in that style of Word's ("Title",
    "Heading 2", "List Bullet"; "" for body text), or "table" with its rows as "a|b" lines; `created`
    and `title` set the file's properties."""
    import docx

    word = docx.Document()
    for style, text in blocks:
        if style == "table":
            rows = [r.split("|") for r in text.splitlines()]
            table = word.add_table(rows=len(rows), cols=len(rows[0]))
            for row, cells in zip(table.rows, rows, strict=True):
                for cell, value in zip(row.cells, cells, strict=True):
                    cell.text = value
        else:
            word.add_paragraph(text, style=style or None)
    if created:
        word.core_properties.created = created
    if title:
        word.core_properties.title = title
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()
