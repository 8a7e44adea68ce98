"""Measuring quality: retrieval on BEIR folders and query files, and the news corpus they run on."""
