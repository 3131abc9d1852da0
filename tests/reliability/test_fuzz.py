"""Property-based fuzzing: no input makes the results reader, the detection or a report writer crash, and no
failure leaves a partial file.

Each property either succeeds or raises the tracker's own one-line error (a VeracityError), whatever
hypothesis feeds it: random bytes, random JSON, valid asv files with one field replaced, extreme
and non-finite numbers, markup and control characters in every string.
"""

from __future__ import annotations

import copy
import errno
import json
import math
import os
import tempfile
from pathlib import Path

import pytest
from asv_samples import BENCHMARKS, result_file_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veracity.errors import DataDirError, VeracityError
from veracity.fsutil import atomic_write_text
from veracity.pipeline.journal import Journal
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.detect import Comparison, Observation, Policy, Verdict, compare_results, judge
from veracity.tracking.history import Regression, open_regressions
from veracity.tracking.report import (
    comparison_to_json,
    comparison_to_markdown,
    comparison_to_text,
    regressions_to_json,
    regressions_to_markdown,
    regressions_to_text,
    targets_to_markdown,
    targets_to_text,
)
from veracity.tracking.results import BenchmarkResult, ResultsStore, parse_benchmarks_json, parse_result_file
from veracity.tracking.site_pages import targets_to_html
from veracity.tracking.stats import mann_whitney_p
from veracity.tracking.targets import Status, Target, TargetStatus, evaluate_target
from veracity.tracking.triage import Acceptance

FUZZ = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
hostile_text = st.lists(
    st.characters(codec="utf-8") | st.sampled_from(["<", ">", "&", "|", "`", "\n", '"', "<script>", "<img src=x>"]),
    max_size=12,
).map("".join)
numbers = st.floats(allow_nan=True, allow_infinity=True) | st.floats(min_value=1e-12, max_value=1e12)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every path to a leaf or container inside a JSON value."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replace(value: object, path: tuple, new: object) -> object:
    if not path:
        return new
    value = copy.deepcopy(value)
    target = value
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = new  # type: ignore[index]
    return value


@st.composite
def mutated_result_files(draw: st.DrawFn) -> bytes:
    """A valid asv 0.6 result file with one field (anywhere in it) replaced by random JSON, or cut short."""
    data = result_file_data()
    path = draw(st.sampled_from(_paths(data)))
    text = json.dumps(_replace(data, path, draw(json_value)))
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode()


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="veracity-fuzz-"))


# --- the results reader ----------------------------------------------------------------------------------


@FUZZ
@given(content=st.binary(max_size=300) | mutated_result_files() | json_value.map(lambda v: json.dumps(v).encode()))
def test_result_file_reader_accepts_or_names_the_file(content: bytes) -> None:
    path = _tmp() / "abcdef12-env.json"
    path.write_bytes(content)
    try:
        parsed = parse_result_file(path)
    except VeracityError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
    else:
        assert all(isinstance(r.value, float | type(None)) for r in parsed.results)
    assert path.read_bytes() == content


@FUZZ
@given(content=st.binary(max_size=200) | json_value.map(lambda v: json.dumps(v).encode()))
def test_benchmarks_json_and_asv_conf_readers_accept_or_explain(content: bytes) -> None:
    folder = _tmp()
    (folder / "benchmarks.json").write_bytes(content)
    (folder / "asv.conf.json").write_bytes(content)
    for read, name in ((parse_benchmarks_json, "benchmarks.json"), (AsvConfig.load, "asv.conf.json")):
        try:
            read(folder / name)
        except VeracityError as exc:
            assert "\n" not in str(exc)


@FEW
@given(files=st.lists(mutated_result_files() | st.binary(max_size=100), min_size=1, max_size=3))
def test_results_store_over_a_folder_of_damaged_files(files: list[bytes]) -> None:
    root = _tmp()
    (root / "m").mkdir()
    (root / "m" / "machine.json").write_text('{"machine": "m", "version": 1}')
    (root / "benchmarks.json").write_text(json.dumps(BENCHMARKS))
    for i, content in enumerate(files):
        (root / "m" / f"{i:08x}-env.json").write_bytes(content)
    store = ResultsStore(root)
    try:
        machine = store.pick_machine(None)
        for commit in store.commits(machine):
            store.results_for(machine, commit)
        open_regressions(store, machine)
    except VeracityError as exc:
        assert "\n" not in str(exc)


# --- detection -------------------------------------------------------------------------------------------

observations = st.builds(
    Observation,
    value=st.none() | numbers,
    samples=st.none() | st.lists(numbers, min_size=1, max_size=12).map(tuple),
)


@FUZZ
@given(observations, observations, st.booleans(), st.none() | st.floats(0, 5), st.booleans())
def test_judge_always_returns_a_verdict(before, after, higher, band, final) -> None:
    j = judge(before, after, higher_is_better=higher, band=band, policy=Policy(), final=final)
    assert isinstance(j.verdict, Verdict)
    assert j.p_value is None or 0.0 <= j.p_value <= 1.0 or math.isnan(j.p_value)


@FUZZ
@given(a=st.lists(numbers, max_size=30), b=st.lists(numbers, max_size=30))
def test_mann_whitney_p_is_a_probability(a: list[float], b: list[float]) -> None:
    p = mann_whitney_p([x for x in a if not math.isnan(x)], [x for x in b if not math.isnan(x)])
    assert 0.0 <= p <= 1.0


results = st.builds(
    BenchmarkResult,
    benchmark=st.sampled_from(["bench.Params.time_param", "bench.Suite.track_items_per_second", "gone.time_x"]),
    params=st.sampled_from([(), ("10",), ("20",)]),
    value=st.none() | numbers,
    samples=st.none() | st.lists(numbers, min_size=1, max_size=8).map(tuple),
    commit=st.just("c"),
    machine=st.just("m"),
    env_name=st.sampled_from(["e1", "e2"]),
    version=st.none() | st.sampled_from(["v1", "v2"]),
)


@FUZZ
@given(before=st.lists(results, max_size=8), after=st.lists(results, max_size=8))
def test_compare_results_and_its_reports_never_crash(before, after) -> None:
    from veracity.tracking.results import BenchmarkInfo

    infos = {
        name: BenchmarkInfo(name, "track", unit, higher)
        for name, unit, higher in [
            ("bench.Params.time_param", "seconds", False),
            ("bench.Suite.track_items_per_second", "items/s", True),
        ]
    }
    rows = compare_results(before, after, benchmarks=infos, noise=None, machine="m")
    assert_reports_are_whole(comparison_rows=rows)


# --- the report writers ----------------------------------------------------------------------------------

comparisons = st.builds(
    Comparison,
    key=hostile_text,
    benchmark=hostile_text,
    params=st.lists(st.tuples(hostile_text, hostile_text), max_size=3).map(tuple),
    unit=st.sampled_from(["seconds", "bytes", "items/s", "ratio", ""]) | hostile_text,
    higher_is_better=st.booleans(),
    env_name=hostile_text,
    before=st.none() | numbers,
    after=st.none() | numbers,
    ratio=st.none() | numbers,
    p_value=st.none() | numbers,
    threshold=st.floats(0, 10),
    verdict=st.sampled_from(list(Verdict)),
)
regressions = st.builds(
    Regression,
    key=hostile_text,
    benchmark=hostile_text,
    params=st.lists(st.tuples(hostile_text, hostile_text), max_size=3).map(tuple),
    unit=st.sampled_from(["seconds", "bytes", "items/s"]) | hostile_text,
    higher_is_better=st.booleans(),
    machine=hostile_text,
    env_name=hostile_text,
    before=st.none() | numbers,
    after=st.none() | numbers,
    ratio=st.none() | numbers,
    p_value=st.none() | numbers,
    threshold=st.floats(0, 10),
    verdict=st.sampled_from([Verdict.WORSE, Verdict.FAILED]),
    good_commit=st.none() | hostile_text,
    first_bad_commit=hostile_text,
    latest_commit=hostile_text,
    accepted=st.none() | st.builds(Acceptance, benchmark=hostile_text, reason=hostile_text, expires=st.dates()),
)
target_statuses = st.builds(
    TargetStatus,
    target=st.builds(Target, hostile_text, hostile_text, st.sampled_from(["<", ">"]), numbers, hostile_text),
    key=st.none() | hostile_text,
    value=st.none() | numbers,
    margin=st.none() | numbers,
    status=st.sampled_from(list(Status)),
)


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _outside_code_spans(markdown: str) -> str:
    import re

    return re.sub(r"(?<!\\)`[^`\n]*`", "``", markdown)


def assert_reports_are_whole(
    comparison_rows=(), regression_rows=(), statuses=(), commit: str | None = "c" * 40
) -> None:
    import re

    raw_tag = re.compile(r"<[a-zA-Z/!]")
    if comparison_rows is not None:
        _strict_json(comparison_to_json(comparison_rows, "a", "b"))
        comparison_to_text(comparison_rows, "a", "b")
        assert not raw_tag.search(_outside_code_spans(comparison_to_markdown(comparison_rows, "a", "b")))
    _strict_json(regressions_to_json(regression_rows))
    regressions_to_text(regression_rows)
    assert not raw_tag.search(_outside_code_spans(regressions_to_markdown(regression_rows)))
    targets_to_text(statuses, commit)
    assert not raw_tag.search(_outside_code_spans(targets_to_markdown(statuses, commit)))
    page = targets_to_html(statuses, commit, "project")
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    # The status mark is ours (an inline SVG disc and words); hostile text must add no tag of its own.
    assert not re.search(r"<(?!/?(tr|td|code|span|svg|circle)\b)[a-zA-Z/!]", body), body


@FUZZ
@given(
    comparison_rows=st.lists(comparisons, max_size=4),
    regression_rows=st.lists(regressions, max_size=4),
    statuses=st.lists(target_statuses, max_size=4),
    commit=st.none() | hostile_text,
)
def test_report_writers_never_crash_and_keep_markup_inert(comparison_rows, regression_rows, statuses, commit) -> None:
    assert_reports_are_whole(comparison_rows, regression_rows, statuses, commit)


@FUZZ
@given(
    target=st.builds(Target, hostile_text, hostile_text, st.sampled_from(["<", ">"]), numbers, hostile_text),
    found=st.lists(results, max_size=6),
)
def test_targets_are_judged_on_any_result(target: Target, found: list[BenchmarkResult]) -> None:
    status = evaluate_target(target, found)
    assert isinstance(status.status, Status)
    targets_to_html([status], None, "p")


# --- no partial file, whatever fails and wherever ---------------------------------------------------------


class _DiskFull:
    def __init__(self, handle, room: int) -> None:
        self._handle, self._room = handle, room

    def write(self, data):
        if len(data) > self._room:
            self._handle.write(data[: self._room])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)


@FUZZ
@given(old=st.text(max_size=200), new=st.text(min_size=1, max_size=400), room=st.integers(0, 500))
def test_a_report_is_the_old_one_or_the_whole_new_one(old: str, new: str, room: int) -> None:
    folder = _tmp()
    target = folder / "report.md"
    target.write_text(old, encoding="utf-8")
    real_fdopen = os.fdopen
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "fdopen", lambda *a, **k: _DiskFull(real_fdopen(*a, **k), room))
        try:
            atomic_write_text(target, new)
        except DataDirError as exc:
            assert "No space left" in str(exc) and "\n" not in str(exc)
    assert target.read_bytes() in (old.encode(), new.encode())
    assert [p.name for p in folder.iterdir()] == ["report.md"]


@FUZZ
@given(rows=st.lists(st.dictionaries(st.text(max_size=5), json_leaf, max_size=3), min_size=1, max_size=8),
       cut=st.integers(0, 10_000))  # fmt: skip
def test_a_journal_cut_anywhere_resumes_with_whole_rows_only(rows: list[dict], cut: int) -> None:
    output = _tmp() / "verdicts.jsonl"
    lines = [json.dumps(r) for r in rows]
    with Journal(output, "key") as journal:
        for line in lines:
            journal.append(line)
    raw = journal.path.read_bytes()
    journal.path.write_bytes(raw[: cut % (len(raw) + 1)])  # a crash at any byte
    again = Journal(output, "key")
    assert again.rows == lines[: len(again.rows)]
    for line in lines[len(again.rows) :]:
        again.append(line)
    again.commit()
    assert output.read_text().splitlines() == lines and not again.path.exists()
