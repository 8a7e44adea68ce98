"""Files into passages: scan the folder, load each format, cut sentence-aware chunks, sync the index."""
