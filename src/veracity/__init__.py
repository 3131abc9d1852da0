"""veracity: a fact-verification pipeline and the performance tracker that watches it."""

__version__ = "0.1.0"
