"""Exceptions a user can cause; the CLI turns each into one line and exit code 2."""

from __future__ import annotations


class VeracityError(Exception):
    """Base for every error a user can fix; its message says what to do."""


class InputError(VeracityError):
    """Bad text, a malformed claims file or a bad argument."""


class DatasetError(VeracityError):
    """A shipped dataset is missing, corrupt or fails its checksum."""


class ModelNotFoundError(VeracityError):
    """A configured model path or id cannot be loaded."""


class DatabaseError(VeracityError):
    """The database cannot be reached or refused an operation."""


class DataDirError(VeracityError):
    """A data or cache directory cannot be created or written."""


class ConfigError(VeracityError):
    """A configuration value is invalid."""


class ResultsError(VeracityError):
    """An asv config, results, machine or benchmarks file is missing, truncated or of another version."""


class TrackingFileError(VeracityError):
    """A committed tracking file (noise bands, triage, targets) is malformed."""


class AsvRunError(VeracityError):
    """An asv command that the tracker started failed."""
