"""The profiler child's ONNX Runtime pass: seconds per graph operator (MatMul, Gelu, ...) of the body's runs.

Part of profile_child.py (run as a script against a commit's code): imports nothing from `veracity`.
ONNX Runtime can only profile a session made with profiling on, so `install` is called before the
benchmarks are imported (they load the models at import): every session then records its runs,
and each operators pass keeps only the runs made inside it (windows of runs, counted per session).
"""

from __future__ import annotations

import bisect
import json
import tempfile
from typing import Any


class OrtRecorder:
    """Turns profiling on for every InferenceSession made after `install`, and reads back one window of runs."""

    def __init__(self) -> None:
        self.sessions: list[Any] = []
        self._folder = tempfile.mkdtemp(prefix="veracity-explain-ort-")

    def install(self) -> bool:
        try:
            import onnxruntime as ort
        except ImportError:
            return False
        recorder = self
        original_init = ort.InferenceSession.__init__
        original_run = ort.InferenceSession.run

        def init(self, path_or_bytes, sess_options=None, *args, **kwargs):  # type: ignore[no-untyped-def]
            options = sess_options if sess_options is not None else ort.SessionOptions()
            options.enable_profiling = True
            options.profile_file_prefix = f"{recorder._folder}/session"
            original_init(self, path_or_bytes, options, *args, **kwargs)
            self._explain_runs = 0
            recorder.sessions.append(self)

        def run(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            self._explain_runs = getattr(self, "_explain_runs", 0) + 1
            return original_run(self, *args, **kwargs)

        ort.InferenceSession.__init__ = init
        ort.InferenceSession.run = run
        return True

    def mark(self) -> list[int]:
        """The run count of every session now: where a window of runs starts or ends."""
        return [session._explain_runs for session in self.sessions]

    def windows(self, marks: list[tuple[list[int], list[int]]]) -> list[list[dict]]:
        """Seconds per operator kind in each (start, end) window of runs; ends profiling, so call it last."""
        totals: list[dict[str, dict]] = [{} for _ in marks]
        for index, session in enumerate(self.sessions):
            spans = [(begin[index], end[index]) for begin, end in marks if index < len(begin)]
            if all(first == last for first, last in spans):
                continue
            with open(session.end_profiling()) as handle:
                events = json.load(handle)
            runs = sorted(
                (e["ts"], e["ts"] + e["dur"]) for e in events if e.get("cat") == "Session" and e["name"] == "model_run"
            )
            starts = [start for start, _ in runs]
            for event in events:
                if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
                    continue
                at = bisect.bisect_right(starts, event["ts"]) - 1
                if at < 0 or event["ts"] > runs[at][1]:
                    continue
                for window, (first, last) in enumerate(spans):
                    if first <= at < last:
                        key = f"onnx::{event['args'].get('op_name', '?')}"
                        row = totals[window].setdefault(key, {"key": key, "self_s": 0.0, "total_s": 0.0, "count": 0})
                        row["self_s"] += event["dur"] / 1e6
                        row["total_s"] += event["dur"] / 1e6
                        row["count"] += 1
        return [list(window.values()) for window in totals]
