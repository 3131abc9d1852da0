"""Verifying a list of claims for the command line: JSON lines to stdout as they come, or to a file resumably."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from veracity.config import Settings
from veracity.errors import VeracityError
from veracity.pipeline.claims_file import ClaimInput
from veracity.pipeline.progress import progress_bar


def verify_to_stdout(claims: Sequence[ClaimInput], settings: Settings) -> None:
    """One JSON line per verdict, printed as soon as it is known; an error says how many stand."""
    from veracity.pipeline.session import open_pipeline

    printed = 0
    try:
        with open_pipeline(settings, show_progress=True) as verifier:
            verdicts = verifier.verify_many(c.claim for c in claims)
            rows = progress_bar(
                zip(claims, verdicts, strict=True), enabled=len(claims) > 1, total=len(claims), desc="claims"
            )
            for claim, verdict in rows:
                print(json.dumps({"id": claim.id, **verdict.to_json()}), flush=True)
                printed += 1
    except VeracityError as exc:
        if printed:
            raise type(exc)(f"{exc}; the {printed} of {len(claims)} verdicts printed before it stand") from None
        raise


def verify_to_file(claims: Sequence[ClaimInput], settings: Settings, output: Path) -> None:
    """Verdicts to `output`, resumable: finished ones survive a lost database, a full disk or an interrupt."""
    from veracity.fsutil import ensure_writable_dir
    from veracity.pipeline.journal import Journal, run_key
    from veracity.pipeline.session import open_pipeline

    ensure_writable_dir(output.parent, "output")  # before the models load, not after every claim is done

    # The DSN and cache folder are left out: the same claims and models give the same verdicts anywhere.
    fields = {k: str(v) for k, v in asdict(settings).items() if k not in ("database_url", "cache_dir")}
    key = run_key([f"{c.id}\0{c.claim}" for c in claims], [f"{k}={v}" for k, v in sorted(fields.items())])
    with Journal(output, key) as journal:
        if journal.count:
            print(f"veracity: resuming: {journal.count} of {len(claims)} done in {journal.path}", file=sys.stderr)
        todo = claims[journal.count :]
        try:
            if todo:
                with open_pipeline(settings, show_progress=True) as verifier:
                    verdicts = verifier.verify_many(c.claim for c in todo)
                    rows = progress_bar(
                        zip(todo, verdicts, strict=True), enabled=len(todo) > 1, total=len(todo), desc="claims"
                    )
                    for claim, verdict in rows:
                        journal.append(json.dumps({"id": claim.id, **verdict.to_json()}))
        except VeracityError as exc:
            raise type(exc)(
                f"{exc}; {journal.count} of {len(claims)} verdicts are kept in {journal.path}: "
                "re-run the same command to finish the rest"
            ) from None
        except KeyboardInterrupt:
            print(f"veracity: {journal.count} of {len(claims)} verdicts are kept in {journal.path}", file=sys.stderr)
            raise
        journal.commit()
