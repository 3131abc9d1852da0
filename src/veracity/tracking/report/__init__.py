"""Reports for people and CI: plain text, Markdown (pull-request comments) and JSON, one module a report."""

from veracity.tracking.report.comparisons import (
    comparison_to_json,
    comparison_to_markdown,
    comparison_to_text,
    count_verdicts,
)
from veracity.tracking.report.formatting import (
    DRIFT_TAG,
    direction_word,
    drift_sentence,
    format_value,
    short_commit,
)
from veracity.tracking.report.regressions import (
    regression_range,
    regressions_to_json,
    regressions_to_markdown,
    regressions_to_text,
)
from veracity.tracking.report.targets import format_margin, targets_to_markdown, targets_to_text

__all__ = [
    "DRIFT_TAG",
    "comparison_to_json",
    "comparison_to_markdown",
    "comparison_to_text",
    "count_verdicts",
    "direction_word",
    "drift_sentence",
    "format_margin",
    "format_value",
    "regression_range",
    "regressions_to_json",
    "regressions_to_markdown",
    "regressions_to_text",
    "short_commit",
    "targets_to_markdown",
    "targets_to_text",
]
