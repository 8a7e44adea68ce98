"""Adapters for other frameworks, each an optional extra: `pip install 'qa[langchain]'`. Importing qa loads none of them."""
