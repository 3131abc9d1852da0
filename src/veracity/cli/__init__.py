"""The `veracity` command line: one small module per command (parsing only), assembled by `main`."""

from veracity.cli.main import main

__all__ = ["main"]
