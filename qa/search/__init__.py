"""From a question to cited passages: dates it names, dense and lexical candidates, fusion, near-duplicates."""
