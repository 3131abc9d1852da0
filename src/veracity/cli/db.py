"""`veracity db start|stop|status`: the embedded PostgreSQL."""

from __future__ import annotations

import argparse

from veracity.cli.parsing import Commands, add_cache_dir, settings


def run(args: argparse.Namespace) -> int:
    from veracity.db.server import EmbeddedServer, embedded_status, stop_embedded

    cache_dir = settings(args).cache_dir
    if args.db_command == "start":
        print(EmbeddedServer(cache_dir, keep_running=True).start())
    elif args.db_command == "stop":
        print("stopped" if stop_embedded(cache_dir) else "not running")
    else:
        running, holders = embedded_status(cache_dir)
        print(f"{'running' if running else 'not running'}; held by {len(holders)} live process(es)")
    return 0


def register(commands: Commands) -> None:
    db = commands.add_parser("db", help="the embedded PostgreSQL: start, stop, status")
    db.add_argument("db_command", choices=["start", "stop", "status"])
    add_cache_dir(db, "where the embedded server keeps its data (default ~/.cache/veracity)")
    db.set_defaults(handler=run)
