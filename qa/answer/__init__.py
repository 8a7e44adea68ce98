"""From passages to what the user reads: extractive answers, and checks of claims and quotes."""
