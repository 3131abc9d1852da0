"""The whole pipeline on the real models and the real embedded PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from veracity.config import Settings
from veracity.data import VERDICTS, load_claims
from veracity.errors import InputError
from veracity.pipeline.evaluate import evaluate
from veracity.pipeline.session import open_pipeline
from veracity.pipeline.verify import EvidenceScore, Verifier, decide

pytestmark = [pytest.mark.models, pytest.mark.db]

# 240 synthetic claims, a third each verdict; chance is 1/3. Measured accuracy is in the README.
VERDICT_ACCURACY_FLOOR = 0.5
EVIDENCE_RECALL_FLOOR = 0.8


@pytest.fixture(scope="module")
def verifier(settings: Settings, database_dsn: str) -> Iterator[Verifier]:
    with open_pipeline(settings.with_overrides(database_url=database_dsn)) as ready:
        yield ready


def test_verdict_names_evidence_and_costs(verifier: Verifier) -> None:
    claim = load_claims()[0]
    verdict = verifier.verify(claim.claim)
    assert verdict.verdict in VERDICTS and 0.0 <= verdict.confidence <= 1.0
    assert len(verdict.evidence) == verifier.top_k
    assert [s.stage for s in verdict.stages] == ["embed", "retrieve", "nli"]
    assert all(s.seconds > 0 and s.rss_bytes > 0 for s in verdict.stages)
    record = verdict.to_json()
    assert record["seconds"] == pytest.approx(sum(s["seconds"] for s in record["stages"]))


def test_shipped_claims_are_verified_better_than_chance(verifier: Verifier) -> None:
    report = evaluate(verifier, load_claims())
    assert report.claims == 240
    assert report.evidence_recall >= EVIDENCE_RECALL_FLOOR
    assert report.accuracy >= VERDICT_ACCURACY_FLOOR


def test_blank_claim_is_an_input_error(verifier: Verifier) -> None:
    with pytest.raises(InputError):
        verifier.verify("  \n\t ")


def test_decision_rule() -> None:
    def ev(e: float, n: float, c: float) -> EvidenceScore:
        return EvidenceScore("p", "Title. A sentence.", 0.9, e, n, c)

    assert decide([ev(0.9, 0.05, 0.05), ev(0.1, 0.1, 0.8)])[0] == "supported"
    assert decide([ev(0.1, 0.1, 0.8), ev(0.2, 0.7, 0.1)]) == ("refuted", 0.8)
    assert decide([ev(0.3, 0.4, 0.3)])[0] == "not_enough_info"
    assert decide([])[0] == "not_enough_info"
