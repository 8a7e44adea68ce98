"""One module per file format, each turning bytes (or decoded text) into a Document:
text.py (.txt), markdown.py (.md), html.py (.html), pdf.py (.pdf, with ocr.py for scanned pages),
docx.py (Word); encoding.py decodes text files and blocks.py lays out the text of HTML and Word.
qa/ingest/loaders.py picks the module by suffix.
"""
