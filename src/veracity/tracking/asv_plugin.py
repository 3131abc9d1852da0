"""asv plugin (asv.conf.json `"plugins": [".veracity.tracking.asv_plugin"]`): direction-aware publishing.

asv's own Regressions publisher (order 3) flags every rise as a regression, against its own thresholds.
The publisher here runs after it and rewrites html/regressions.json and regressions.xml to hold what
`veracity regressions` lists and no more: the open regressions of each machine's latest commit, judged
with direction and each benchmark's noise figure (tracking.history). It writes html/regressions.html,
where an accepted regression shows as accepted with its reason and expiry, each row names its noise
figure and links to its explain page where html/explain/ has one (the pages kept in .asv/explain/ are
copied back first: asv deleted html/), and points the navigation bar's "Regressions" at it. Other
publishers write html/targets.html and html/triage.html.

asv calls `setup()` when it imports the plugin, before any command does its work: it installs the
hooks of tracking.asv_commands, so plain `asv compare`, `asv continuous` and `asv find` know
direction and noise too (checked against the pinned asv; on a mismatch, one warning line and
asv's own behaviour).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from asv import util
from asv.console import log
from asv.plugins.regressions import Regressions
from asv.publishing import OutputPublisher

from veracity.errors import VeracityError
from veracity.fsutil import atomic_write_text
from veracity.tracking import asv_commands
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.noise import NoiseFile
from veracity.tracking.triage import load_triage

ORDER_OFFLINE = 20
ORDER_REGRESSIONS = 10
ORDER_TARGETS = 11


def setup() -> None:
    """Called by asv when it imports the plugin: direction-aware compare, continuous and find."""
    asv_commands.install()


@contextmanager
def _as_user_error() -> Iterator[None]:
    """Our errors as asv's UserError: one line on the console, not a traceback."""
    try:
        yield
    except VeracityError as exc:
        raise util.UserError(f"veracity: {exc}") from None


def _open_regressions_by_machine(config: AsvConfig, noise: NoiseFile):
    """Every machine's open regressions (broken benchmarks among them) and its triage entries' states."""
    from veracity.tracking.history import open_regressions
    from veracity.tracking.results import ResultsStore
    from veracity.tracking.triage_review import review_triage

    store = ResultsStore(config.results_dir)
    triage = load_triage(config.triage_file)
    found, reviews = [], {}
    for machine in store.machines():
        history = {"repo": config.repo, "branch": config.branches[0], "noise": noise}
        mine = open_regressions(store, machine, triage=triage, **history)
        reviews[machine] = review_triage(store, machine, triage, mine, **history)
        found += mine
    return found, reviews


def _write_triage_page(config: AsvConfig, regressions: list, reviews: dict) -> None:
    """html/triage.html: benchmarks broken on every commit measured, and what each triage entry does."""
    import json

    from veracity.tracking.detect import Verdict
    from veracity.tracking.site_pages import triage_to_html

    broken = [r for r in regressions if r.verdict is Verdict.BROKEN]
    flat = [(machine, review) for machine, rs in reviews.items() for review in rs]
    atomic_write_text(config.html_dir / "triage.html", triage_to_html(broken, flat, config.project))
    summary = {
        "broken": [{"machine": r.machine, "benchmark": r.key, "since": r.first_bad_commit} for r in broken],
        "triage": {machine: [r.to_json() for r in rs] for machine, rs in reviews.items()},
    }
    atomic_write_text(config.html_dir / "triage.json", json.dumps(summary, indent=2) + "\n")
    _link_page(config, "triage.html", "Triage")


_NAV_REGRESSIONS = '<li id="nav-li-regressions"><a href="{href}">Regressions</a></li>'
_ASV_REGRESSIONS = _NAV_REGRESSIONS.format(href="#/regressions")
_OUR_REGRESSIONS = _NAV_REGRESSIONS.format(href="regressions.html")


def _link_page(config: AsvConfig, page: str, label: str) -> None:
    """A link to one of our pages in the navigation bar of asv's index.html, after Regressions."""
    index = config.html_dir / "index.html"
    if not index.exists():
        return
    text = index.read_text(encoding="utf-8")
    anchor = _OUR_REGRESSIONS if _OUR_REGRESSIONS in text else _ASV_REGRESSIONS
    link = f'<li id="nav-li-{page.split(".")[0]}"><a href="{page}">{label}</a></li>'
    if anchor in text and link not in text:
        atomic_write_text(index, text.replace(anchor, anchor + "\n\t" + link))


def _point_regressions_at_our_page(config: AsvConfig) -> None:
    """The navigation bar's Regressions: html/regressions.html instead of asv's view, which knows no triage."""
    index = config.html_dir / "index.html"
    if index.exists() and _ASV_REGRESSIONS in (text := index.read_text(encoding="utf-8")):
        atomic_write_text(index, text.replace(_ASV_REGRESSIONS, _OUR_REGRESSIONS))


def _explain_links(html_dir: Path, regressions: list) -> dict[str, str]:
    """Benchmark key -> the href of its latest explain page, for the regressions whose page exists.

    `veracity explain -b` resolves to one combination, `name(params)` as asv names it: the row's key.
    """
    from veracity.explain.pages import EXPLAIN_FOLDER, page_name

    return {
        reg.key: f"{EXPLAIN_FOLDER}/{page_name(reg.key)}"
        for reg in regressions
        if (html_dir / EXPLAIN_FOLDER / page_name(reg.key)).is_file()
    }


def _restore_explain_pages(config: AsvConfig) -> None:
    """Put the kept explain pages back: asv deleted html/ (or publish_site built a fresh folder) first."""
    from veracity.explain.pages import explain_store, restore_pages

    if restored := restore_pages(explain_store(config.results_dir), config.html_dir):
        log.info(f"veracity: {len(restored)} explain page(s) restored into {config.html_dir / 'explain'}")


class DirectionalRegressions(OutputPublisher):
    name = "veracity-regressions"
    button_label = "Regressions (direction-aware)"
    description = "Regressions that know higher-is-better metrics and calibrated noise"
    order = ORDER_REGRESSIONS

    @classmethod
    def publish(cls, conf, repo, benchmarks, graphs, revisions):
        with _as_user_error():
            cls._publish(conf, repo, benchmarks, graphs, revisions)

    @classmethod
    def _publish(cls, conf, repo, benchmarks, graphs, revisions):
        from veracity.tracking.site_pages import regressions_to_html

        config = AsvConfig.from_asv_conf(conf)
        noise = NoiseFile.load(config.noise_file)
        revision_to_hash = {r: h for h, r in revisions.items()}
        graphs_by_benchmark: dict[str, list] = {}
        for _, graph in graphs:
            if "summary" not in graph.params and graph.benchmark_name in benchmarks:
                graphs_by_benchmark.setdefault(graph.benchmark_name, []).append(graph)
        found, reviews = _open_regressions_by_machine(config, noise)
        _write_triage_page(config, found, reviews)
        regressions: list[list] = []
        for reg in found:
            if reg.verdict.is_worse:
                entry = cls._entry_for(reg, graphs_by_benchmark, benchmarks, revisions, graphs.get_params())
                regressions += [entry] if entry is not None else []
        Regressions._save(conf, {"regressions": regressions})
        Regressions._save_feed(conf, benchmarks, regressions, revisions, revision_to_hash)
        by_machine = [(m, [r for r in found if r.machine == m]) for m in reviews]
        _restore_explain_pages(config)
        page = regressions_to_html(by_machine, _explain_links(config.html_dir, found), config.project)
        atomic_write_text(config.html_dir / "regressions.html", page)
        _point_regressions_at_our_page(config)
        log.info(f"veracity: {len(regressions)} open regression(s) in regressions.json and regressions.html")

    @staticmethod
    def _entry_for(reg, graphs_by_benchmark, benchmarks, revisions, all_params):
        """asv's regressions.json row for one of our open regressions, on its machine's graph."""
        if reg.before is None or reg.after is None or reg.first_bad_commit not in revisions:
            return None
        graph = next(
            (g for g in graphs_by_benchmark.get(reg.benchmark, []) if g.params.get("machine") == reg.machine), None
        )
        if graph is None:
            return None
        benchmark = benchmarks[reg.benchmark]
        combos = [tuple(str(v) for v in c) for c in itertools.product(*(benchmark.get("params") or []))]
        param_values = tuple(v for _, v in reg.params)
        j = combos.index(param_values) if benchmark.get("params") and param_values in combos else None
        graph_params = {k: v for k, v in graph.params.items() if len(all_params.get(k, ())) > 1}
        rev_bad = revisions[reg.first_bad_commit]
        rev_good = revisions.get(reg.good_commit) if reg.good_commit else None
        return [
            reg.key,
            graph.path + ".json",
            graph_params,
            j,
            reg.after,
            reg.before,
            [(rev_good, rev_bad, reg.before, reg.after)],
        ]


class TargetsPage(OutputPublisher):
    name = "veracity-targets"
    button_label = "Targets"
    description = "Product targets: met, close or missed on the latest commit"
    order = ORDER_TARGETS

    @classmethod
    def publish(cls, conf, repo, benchmarks, graphs, revisions):
        with _as_user_error():
            cls._publish(AsvConfig.from_asv_conf(conf))

    @classmethod
    def _publish(cls, config: AsvConfig):
        import json

        from veracity.tracking.history import ordered_commits
        from veracity.tracking.results import ResultsStore, benchmark_keys
        from veracity.tracking.site_pages import targets_to_html
        from veracity.tracking.targets import evaluate_target, load_targets

        targets = load_targets(config.targets_file)
        store = ResultsStore(config.results_dir)
        html_dir = config.html_dir
        pages = []
        summary = {}
        for machine in store.machines():
            commits = ordered_commits(store, machine, config.repo, config.branches[0])
            latest = commits[-1] if commits else None
            results = store.results_for(machine, latest) if latest else []
            statuses = [evaluate_target(t, results, benchmark_keys(store.benchmarks())) for t in targets]
            pages.append(targets_to_html(statuses, latest, f"{config.project} on {machine}"))
            summary[machine] = {
                "commit": latest,
                "targets": [s.to_json() for s in statuses],
            }
        # One page per machine would need a site of its own; the first machine's page, the rest in targets.json.
        page = pages[0] if pages else targets_to_html([], None, config.project)
        atomic_write_text(html_dir / "targets.html", page)
        atomic_write_text(html_dir / "targets.json", json.dumps(summary, indent=2) + "\n")
        _link_page(config, "targets.html", "Targets")
        _write_latest_pair_pages(config, store)


def _write_latest_pair_pages(config: AsvConfig, store) -> None:
    """The pages that show the latest commit beside the one before, for the first machine, as the targets
    page is: html/quality.html (confusion matrix, F1 per class: tracking.site_quality) and
    html/frontier.html (vector search's recall/QPS frontier: tracking.site_frontier)."""
    from veracity.tracking.history import ordered_commits
    from veracity.tracking.site_frontier import frontier_to_html
    from veracity.tracking.site_quality import quality_to_html

    machines = store.machines()
    if not machines:
        return
    machine = machines[0]
    commits = ordered_commits(store, machine, config.repo, config.branches[0])
    latest = commits[-1] if commits else None
    previous = commits[-2] if len(commits) > 1 else None
    latest_results = store.results_for(machine, latest) if latest else []
    previous_results = store.results_for(machine, previous) if previous else []
    project = f"{config.project} on {machine}"
    for name, link, render in (
        ("quality.html", "Quality", quality_to_html),
        ("frontier.html", "Frontier", frontier_to_html),
    ):
        page = render(latest_results, latest, project, previous_results, previous)
        atomic_write_text(config.html_dir / name, page)
        _link_page(config, name, link)


class OfflineSite(OutputPublisher):
    """Last step of `asv publish`: the site's scripts come from html/vendor/, not from CDNs, and the
    few places where asv's scripts build markup from repository text escape it (see site_escaping)."""

    name = "veracity-offline"
    button_label = ""
    description = "Serve asv's third-party scripts locally"
    order = ORDER_OFFLINE

    @classmethod
    def publish(cls, conf, repo, benchmarks, graphs, revisions):
        from veracity.tracking.offline_site import make_offline
        from veracity.tracking.site_escaping import escape_site_scripts

        make_offline(Path(conf.html_dir))
        for missing in escape_site_scripts(Path(conf.html_dir)):
            log.warning(f"veracity: asv's script changed, check that its text is still escaped: {missing}")
