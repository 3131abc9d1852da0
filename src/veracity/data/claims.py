"""Picks labelled claims about the corpus world: restated, contradicted, or never stated facts."""

from __future__ import annotations

import random

from veracity.data import VERDICTS
from veracity.data.corpus import FactKey, fact_key
from veracity.data.render import claim_text, wrong_value
from veracity.data.templates import TOPICS
from veracity.data.world import Fact, Value, World

SUPPORTED, REFUTED, NOT_ENOUGH_INFO = VERDICTS


def _pick(candidates: list[Fact], used: set[FactKey], world: World, rng: random.Random) -> Fact | None:
    fresh = [f for f in candidates if fact_key(f) not in used]
    if not fresh:
        return None
    # Half the claims are about entities with look-alike names, where retrieval can go wrong.
    crowded = [f for f in fresh if world.look_alikes(f.subject)]
    return rng.choice(crowded if crowded and rng.random() < 0.5 else fresh)


def build_claims(
    world: World, evidence: dict[FactKey, list[str]], rng: random.Random, per_verdict: int
) -> list[dict[str, object]]:
    """`per_verdict` claims of each verdict, spread over every topic in turn."""
    stated: dict[str, list[Fact]] = {t.key: [] for t in TOPICS}
    unstated: dict[str, list[Fact]] = {t.key: [] for t in TOPICS}
    for entity in world.all_entities():
        # Only entities the corpus mentions at all can carry a not-enough-info claim.
        facts = world.facts_of(entity)
        if not any(fact_key(f) in evidence for f in facts):
            continue
        for fact in facts:
            pool = stated if fact_key(fact) in evidence else unstated
            pool[fact.topic.key].append(fact)

    used: set[FactKey] = set()
    drafts: list[tuple[str, str, list[str]]] = []
    for verdict in VERDICTS:
        pools = unstated if verdict == NOT_ENOUGH_INFO else stated
        order = [t.key for t in TOPICS]
        rng.shuffle(order)
        made, turn = 0, 0
        while made < per_verdict:
            if turn >= len(order) * (per_verdict + 1):
                raise RuntimeError(f"the world is too small for {per_verdict} {verdict} claims")
            picked = _pick(pools[order[turn % len(order)]], used, world, rng)
            turn += 1
            if picked is None:
                continue
            fact = picked
            used.add(fact_key(fact))
            value: Value
            if verdict == REFUTED:
                value = wrong_value(world, fact, rng)
            else:
                # A not-enough-info claim states the hidden true value, so nothing in the
                # corpus (a birth year, a founding date) can rule it out by inference.
                value = fact.value
            text = claim_text(fact.subject, fact.topic, value, rng, None)
            ids = [] if verdict == NOT_ENOUGH_INFO else sorted(evidence[fact_key(fact)])
            drafts.append((text, verdict, ids))
            made += 1
    rng.shuffle(drafts)
    return [
        {"id": f"c{n:04d}", "claim": text, "verdict": verdict, "evidence": ids}
        for n, (text, verdict, ids) in enumerate(drafts, start=1)
    ]
