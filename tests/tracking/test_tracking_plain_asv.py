"""Plain `asv compare`, `asv continuous` and `asv find` give veracity's verdicts (tracking.asv_commands).

The hooks are installed by the plugin that the toy's asv.conf.json names, as the project's does;
every `asv ...` below is a real asv command in a subprocess. The fast tests measure with an
`existing` environment; pull requests and `asv find` need a virtualenv that installs each commit.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from toy_suite import MACHINE, REPO_ROOT, ToyRepo

from veracity.cli.main import main
from veracity.tracking import asv_commands
from veracity.tracking.asv_commands import PINNED_ASV, Band, _hook_is_result_better, _Judged, _Table
from veracity.tracking.noise import NoiseBand, NoiseFile

THROUGHPUT = "bench.Suite.track_items_per_second"
GREY = "bench.Suite.track_grey_items_per_second"
YARDSTICK = "bench.Suite.track_machine_gflops"
TIME = "bench.Suite.time_work"
WORSE, BETTER, SAME = (
    "Benchmarks that have got worse:",
    "Benchmarks that have improved:",
    "Benchmarks that have stayed the same:",
)


def marks(stdout: str) -> dict[str, str]:
    """Benchmark -> its mark ('+', '-', '' ...) in the tables asv printed."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[-1] == "Benchmark (Parameter)" or re.fullmatch(r"-{2,}", cells[0]):
            continue
        rows[cells[-1]] = cells[0]
    return rows


def groups(stdout: str) -> dict[str, set[str]]:
    """`--split` output: title -> the benchmarks listed under it."""
    out: dict[str, set[str]] = {}
    title = None
    for line in stdout.splitlines():
        if line.startswith("Benchmarks that"):
            title = line.strip()
            out[title] = set()
        elif title is not None:
            out[title] |= set(marks(line))
    return out


def veracity_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if "veracity:" in line]


# -- the hooks in-process: rules, thresholds, the version check ---------------------------------


def test_the_hooks_are_for_the_asv_the_project_pins() -> None:
    pins = (REPO_ROOT / "constraints.txt").read_text() + (REPO_ROOT / "pyproject.toml").read_text()
    assert f"asv=={PINNED_ASV}" in pins
    if not asv_commands.installed():
        assert asv_commands.hook_problem() is None


def test_a_higher_is_better_row_is_worse_when_it_falls() -> None:
    from asv.commands.compare import _is_result_better

    better = _hook_is_result_better(_is_result_better)
    table = _Table(
        {THROUGHPUT: "items/s (higher is better)", TIME: "seconds"},
        NoiseFile(Path("none")),
        "m",
        paired=False,
        factor_given=False,
    )
    before, after = table.tag(THROUGHPUT, THROUGHPUT, 1000.0), table.tag(THROUGHPUT, THROUGHPUT, 500.0)
    assert better(before, after, None, None, 1.1) and not better(after, before, None, None, 1.1)
    t1, t2 = table.tag(TIME, TIME, 0.01), table.tag(TIME, TIME, 0.02)
    assert better(t1, t2, None, None, 1.1) and not better(t2, t1, None, None, 1.1)
    assert better(1.0, 2.0, None, None, 1.1)  # a value without a rule: asv's own test


@pytest.mark.parametrize("unit", ["GFLOP/s [machine yardstick] (higher is better)", "ratio [descriptive]"])
def test_yardsticks_and_descriptive_figures_are_never_better_or_worse(unit: str) -> None:
    from asv.commands.compare import _is_result_better

    better = _hook_is_result_better(_is_result_better)
    table = _Table({"x": unit}, NoiseFile(Path("none")), "m", paired=False, factor_given=False)
    low, high = table.tag("x", "x", 1.0), table.tag("x", "x", 10.0)
    assert not better(low, high, None, None, 1.1) and not better(high, low, None, None, 1.1)


def test_a_calibrated_band_is_the_threshold_floored_unless_factor_is_given(tmp_path: Path) -> None:
    noise = NoiseFile(tmp_path / "noise.json")
    noise.update(
        "m", "abc", [NoiseBand("wide", 0.3, 5, 0.0, 0.0, paired=0.2, pairs=5), NoiseBand("narrow", 0.01, 5, 0, 0)]
    )
    assert asv_commands.noise_band(noise, "m", "wide", paired=False) == Band(0.3, "calibrated noise bands")
    assert asv_commands.noise_band(noise, "m", "wide", paired=True) == Band(0.2, "paired calibrated noise bands")
    assert asv_commands.noise_band(noise, "m", "narrow", paired=False).value == 0.03  # veracity's calibrated floor
    # A work count's floor is its own, lower one (as veracity's detection floors it).
    assert asv_commands.noise_band(noise, "m", "narrow", paired=False, unit="instructions").value < 0.03
    assert asv_commands.noise_band(noise, "other", "wide", paired=False) is None
    units = {"wide": "seconds", "narrow": "seconds", "none": "seconds"}
    table = _Table(units, noise, "m", paired=False, factor_given=False)
    assert table.rule("wide", "wide").factor == pytest.approx(1.3)
    assert table.rule("narrow", "narrow").factor == pytest.approx(1.03)
    assert table.rule("none", "none").factor is None
    given = _Table(units, noise, "m", paired=False, factor_given=True)
    assert given.rule("wide", "wide").factor is None
    assert isinstance(table.tag("wide", "wide", 2.0), _Judged) and table.tag("wide", "wide", None) is None


@pytest.mark.parametrize(
    ("argv", "given"),
    [
        (["compare", "a", "b"], False),
        (["compare", "a", "b", "--factor", "1.2"], True),
        (["compare", "a", "b", "-f1.2"], True),
        (["compare", "a", "b", "-sf", "1.2"], True),
        (["continuous", "a", "b", "--fact=1.3"], True),
        (["continuous", "a", "b", "-b", "track_factor", "--machine", "f"], False),
        (["--config", "x.json", "continuous", "a", "b", "--factor", "1.1"], True),
    ],
)
def test_factor_given_reads_the_command_line_as_asv_does(argv: list[str], given: bool) -> None:
    assert asv_commands.factor_given(argv) is given


def test_a_changed_target_or_version_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import asv
    from asv.commands import compare, find

    if asv_commands.installed():
        pytest.skip("hooks installed in this process")
    original = compare._is_result_better
    monkeypatch.setattr(
        compare, "_is_result_better", lambda a, b, a_ss, b_ss, factor, use_stats=True, extra=0: original
    )
    assert "compare._is_result_better" in asv_commands.hook_problem()
    monkeypatch.undo()
    monkeypatch.delattr(find, "Find")
    assert asv_commands.hook_problem() == f"asv {PINNED_ASV} has no find.Find.run"
    monkeypatch.undo()
    monkeypatch.setattr(asv, "__version__", "0.7.0")
    assert asv_commands.hook_problem().startswith("asv 0.7.0 is installed")


def test_install_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    from asv.commands import compare, find

    for owner, name in [(compare, "_is_result_better"), (compare, "unroll_result")]:
        monkeypatch.setattr(owner, name, getattr(owner, name))
    monkeypatch.setattr(compare.Compare, "print_table", compare.Compare.__dict__["print_table"])
    monkeypatch.setattr(find.Find, "run", find.Find.__dict__["run"])
    assert asv_commands.install() and asv_commands.installed()
    hooked = compare._is_result_better
    assert asv_commands.install() and compare._is_result_better is hooked


# -- real asv runs, existing environment ----------------------------------------------------------


@pytest.fixture(scope="module")
def history(asv_home: Path, tmp_path_factory: pytest.TempPathFactory) -> ToyRepo:
    """base -> slow (throughput halved, time doubled, the machine's yardstick halved) -> fix (all back)."""
    repo = ToyRepo(tmp_path_factory.mktemp("plain") / "toy")
    repo.commit("base")
    repo.commit("slow", throughput=0.5, time=2.0, machine=0.5)
    repo.commit("fix")
    for label in ("base", "slow", "fix"):
        repo.run_at(label, "Suite")
    repo.checkout_main()
    return repo


@pytest.mark.asv
def test_plain_asv_compare_calls_a_throughput_drop_worse(history: ToyRepo) -> None:
    done = history.asv("compare", "base", "slow", "--machine", MACHINE)
    rows = marks(done.stdout)
    assert rows[THROUGHPUT] == "+" and rows[TIME] == "+", done.stdout
    assert rows[YARDSTICK] == "" and rows[GREY] == "", done.stdout  # the machine halved: never judged
    assert veracity_lines(done.stdout) == []  # no band calibrated: asv's factor, nothing to say


@pytest.mark.asv
def test_plain_asv_compare_calls_the_fix_better_and_shows_no_worse_row(history: ToyRepo) -> None:
    done = history.asv("compare", "slow", "fix", "--machine", MACHINE, "--only-changed")
    rows = marks(done.stdout)
    assert rows == {THROUGHPUT: "-", TIME: "-"}, done.stdout
    assert done.returncode == 0


@pytest.mark.asv
def test_split_puts_each_row_in_its_group(history: ToyRepo) -> None:
    done = history.asv("compare", "base", "slow", "--machine", MACHINE, "--split")
    found = groups(done.stdout)
    assert found[WORSE] == {THROUGHPUT, TIME}, done.stdout
    assert BETTER not in found  # plain asv lists the throughput drop and the yardstick's fall here
    assert YARDSTICK in found[SAME]


@pytest.mark.asv
def test_calibrated_bands_are_the_thresholds_and_factor_given_wins(asv_home: Path, tmp_path: Path) -> None:
    """A 20% drop inside a 30% band is unchanged; a 5% drop past a 3% band is worse (asv's 10% says the opposite)."""
    repo = ToyRepo(tmp_path / "toy")
    repo.commit("base")
    repo.commit("dip", grey=0.8, throughput=0.95)
    for label in ("base", "dip"):
        repo.run_at(label, "track_")
    plain = marks(repo.asv("compare", "base", "dip", "--machine", MACHINE).stdout)
    assert (plain[GREY], plain[THROUGHPUT]) == ("+", "")
    noise = NoiseFile(repo.root / "benchmarks" / "noise.json")
    noise.update(
        MACHINE, repo.commits["base"], [NoiseBand(GREY, 0.3, 5, 0.0, 0.0), NoiseBand(THROUGHPUT, 0.02, 5, 0.0, 0.0)]
    )
    noise.save()
    done = repo.asv("compare", "base", "dip", "--machine", MACHINE)
    banded = marks(done.stdout)
    assert (banded[GREY], banded[THROUGHPUT]) == ("", "+"), done.stdout
    assert veracity_lines(done.stdout) == [
        f"· veracity: thresholds from calibrated noise bands for machine {MACHINE} where calibrated, "
        "--factor elsewhere (--factor given explicitly wins)"
    ]
    done = repo.asv("compare", "base", "dip", "--machine", MACHINE, "--factor", "1.1")
    assert marks(done.stdout) == plain
    assert veracity_lines(done.stdout) == [
        f"· veracity: --factor given explicitly: calibrated noise bands for machine {MACHINE} not used"
    ]


SIMULATED = {
    "another version": "import asv; asv.__version__ = '0.7.0'",
    "a target missing": "import asv.commands.find as f; del f.Find",
    "a changed signature": (
        "import asv.commands.compare as c; o = c._is_result_better\n"
        "def f(a, b, a_ss, b_ss, factor, use_stats=True, *, more=None): return o(a, b, a_ss, b_ss, factor, use_stats)\n"
        "c._is_result_better = f"
    ),
}


@pytest.mark.asv
@pytest.mark.parametrize("simulated", SIMULATED)
def test_hooks_that_do_not_fit_leave_plain_asv_with_one_warning(history: ToyRepo, simulated: str) -> None:
    """asv run as `python -c`: the simulation first, then asv's own main (which imports the plugin)."""
    code = SIMULATED[simulated] + "\nfrom asv.main import main\nmain()\n"
    done = subprocess.run(
        [sys.executable, "-c", code, "--config", str(history.config), "compare", "base", "slow", "--machine", MACHINE],
        cwd=history.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    warned = veracity_lines(done.stdout + done.stderr)
    assert len(warned) == 1 and "plain asv compare/continuous/find judge every benchmark lower-is-better" in warned[0]
    assert marks(done.stdout)[THROUGHPUT] == "-"  # asv's own verdict: the drop "improved"


# -- real asv runs, a virtualenv that installs each commit (pull requests, asv find) ------------


@pytest.fixture(scope="module")
def pull_request(
    asv_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ToyRepo, subprocess.CompletedProcess]:
    """c0 .. c2, then c3 halves throughput and makes time 4x (clear of a busy clock), c4 .. c6 keep it, `fix`
    restores it.

    `asv continuous c2 c3 -b Suite`, as a pull-request workflow runs it, once for the tests below.
    """
    repo = ToyRepo(tmp_path_factory.mktemp("pr") / "toy", env_type="virtualenv")
    for label in ("c0", "c1", "c2"):
        repo.commit(label)
    for label in ("c3", "c4", "c5", "c6"):
        repo.commit(label, throughput=0.5, time=4.0)
    repo.commit("fix")
    continuous = repo.asv("continuous", "c2", "c3", "--machine", MACHINE, "-b", "Suite", check=False)
    return repo, continuous


@pytest.mark.asv
@pytest.mark.slow
def test_plain_asv_continuous_fails_a_pull_request_that_halves_throughput(pull_request) -> None:
    _, done = pull_request
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert marks(done.stdout) == {TIME: "+", THROUGHPUT: "+"}, done.stdout
    assert "PERFORMANCE DECREASED." in done.stdout


@pytest.mark.asv
@pytest.mark.slow
def test_plain_asv_continuous_reaches_the_verdict_of_veracity_continuous(pull_request, tmp_path: Path) -> None:
    repo, done = pull_request
    report = tmp_path / "report.json"
    argv = ["continuous", "c2", "c3", "--config", str(repo.config), "--machine", MACHINE, "-b", "Suite"]
    code = main([*argv, "--json", "--quiet", "--output", str(report), "--rerun", "0"])
    rows = json.loads(report.read_text())["rows"]
    worse = {row["key"] for row in rows if row["verdict"] in ("worse", "failed")}
    assert (code, worse) == (done.returncode, {name for name, mark in marks(done.stdout).items() if mark == "+"})


@pytest.mark.asv
@pytest.mark.slow
def test_plain_asv_compare_after_the_fix_calls_it_better(pull_request) -> None:
    repo, _ = pull_request
    repo.asv("run", "fix^!", "--machine", MACHINE, "-b", "Suite")
    done = repo.asv("compare", "c3", "fix", "--machine", MACHINE, "--only-changed")
    assert marks(done.stdout) == {TIME: "-", THROUGHPUT: "-"}, done.stdout
    assert done.returncode == 0


@pytest.mark.asv
@pytest.mark.slow
def test_plain_asv_find_names_the_commit_that_dropped_throughput(pull_request) -> None:
    repo, _ = pull_request
    done = repo.asv("find", "c0..c6", THROUGHPUT, "--machine", MACHINE)
    found = [line for line in done.stdout.splitlines() if "Greatest" in line]
    assert len(found) == 1 and f"Greatest regression found: {repo.commits['c3'][:8]} <c3>" in found[0], done.stdout
