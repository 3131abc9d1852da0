"""Errors of the tracker that a user can fix: bad result files, bad committed files, failed asv runs."""

from __future__ import annotations

from veracity.errors import VeracityError


class ResultsError(VeracityError):
    """An asv config, results, machine or benchmarks file is missing, truncated or of another version."""


class TrackingFileError(VeracityError):
    """A committed tracking file (noise bands, triage, targets) is malformed."""


class AsvRunError(VeracityError):
    """An asv command that the tracker started failed."""
