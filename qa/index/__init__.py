"""The index on disk: generations and manifest, the SQLite catalog, the vector cache, the BM25 lexicon."""
