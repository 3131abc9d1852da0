"""The system under test: embedding, NLI, vector stores and claim verification."""
