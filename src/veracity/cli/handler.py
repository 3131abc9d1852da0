"""How every `veracity` command turns an error the user can cause into one line and exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from veracity.db.dsn import redact_dsn
from veracity.errors import VeracityError
from veracity.fsutil import describe_write_error, is_storage_error

EXIT_USAGE = 2


def run_handler(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; a VeracityError or a storage OSError (full disk, no permission) is one line on
    stderr, secrets redacted, and exit code 2. Anything else is a bug and keeps its traceback."""
    try:
        return int(handler(args))
    except VeracityError as exc:
        print(f"veracity: error: {redact_dsn(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        if not is_storage_error(exc):
            raise
        print(f"veracity: error: {describe_write_error(Path(exc.filename or '?'), exc)}", file=sys.stderr)
        return EXIT_USAGE
