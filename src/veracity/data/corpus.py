"""Builds the evidence corpus from the world and records which passages state which fact."""

from __future__ import annotations

import random
from dataclasses import dataclass

from veracity.data.render import Line, fact_line, render
from veracity.data.templates import FILLERS
from veracity.data.world import Entity, Fact, World

FactKey = tuple[str, str]

# A section label for one-fact passages, the way a reference work titles an excerpt.
_SECTIONS = {
    "region": "geography",
    "founded": "history",
    "population": "population",
    "river": "geography",
    "founder": "history",
    "industry": "economy",
    "birth_year": "early life",
    "birthplace": "early life",
    "profession": "career",
    "death_year": "later life",
    "death_place": "later life",
    "headquarters": "offices",
    "product": "products",
    "employees": "staff",
    "length": "description",
    "source": "course",
    "mouth": "course",
    "launched": "history",
    "builder": "construction",
    "home_port": "service",
    "captain": "crew",
}
# Share of an entity's facts that no passage states: claims about them are not-enough-info.
HIDDEN_SHARE = 0.22


@dataclass(frozen=True)
class Draft:
    """A passage before it has an id: its title, its sentences and the facts they state."""

    title: str
    text: str
    facts: tuple[Fact, ...]


def fact_key(fact: Fact) -> FactKey:
    return (fact.subject.key, fact.topic.key)


def _filler(entity: Entity, rng: random.Random) -> Line:
    return Line(entity, rng.choice(FILLERS[entity.kind]))


def _visible(world: World, entity: Entity, rng: random.Random) -> list[Fact]:
    facts = world.facts_of(entity)
    hidden = [rng.random() < HIDDEN_SHARE for _ in facts]
    shown = [f for f, h in zip(facts, hidden, strict=True) if not h]
    # Every entity keeps at least two stated facts so it is findable and claimable.
    return shown if len(shown) >= 2 else facts[:2]


def _overview(entity: Entity, facts: list[Fact], rng: random.Random) -> Draft:
    if rng.random() < 0.6:
        chosen = rng.sample(facts, len(facts))
        target = min(8, max(len(chosen) + rng.randint(0, 2), rng.randint(4, 8)))
        lines = [fact_line(f, rng, None) for f in chosen]
        for template in rng.sample(FILLERS[entity.kind], target - len(lines)):
            lines.insert(rng.randint(1, len(lines)), Line(entity, template))
    else:
        chosen = rng.sample(facts, min(len(facts), rng.randint(1, 3)))
        lines = [fact_line(f, rng, None) for f in chosen]
    return Draft(entity.name, render(lines, rng), tuple(chosen))


def _snippet(entity: Entity, fact: Fact, rng: random.Random) -> Draft:
    lines = [fact_line(fact, rng, None)]
    if rng.random() < 0.25:
        lines.append(_filler(entity, rng))
    title = f"{entity.name}: {_SECTIONS[fact.topic.key.split('.')[1]]}"
    return Draft(title, render(lines, rng), (fact,))


def _digests(world: World, visible: dict[str, list[Fact]], rng: random.Random) -> list[Draft]:
    """Regional round-ups naming several towns, look-alikes side by side."""
    drafts = []
    for region in world.regions:
        towns = [t for t in world.entities["town"] if world.value(t, "town.region") == region]
        towns.sort(key=lambda t: (t.stem, t.key))
        for start in range(0, min(len(towns), 12), 6):
            group = towns[start : start + 6]
            facts = [rng.choice(visible[t.key]) for t in group]
            if len(facts) >= 2:
                lines = [fact_line(f, rng, None) for f in facts]
                drafts.append(Draft(f"Towns of {region}", render(lines, rng), tuple(facts)))
    return drafts


def build_corpus(world: World, rng: random.Random) -> tuple[list[dict[str, str]], dict[FactKey, list[str]]]:
    """Passages as records, and for each stated fact the ids of the passages stating it."""
    drafts: list[Draft] = []
    visible: dict[str, list[Fact]] = {}
    for entity in world.all_entities():
        facts = _visible(world, entity, rng)
        visible[entity.key] = facts
        overview = _overview(entity, facts, rng)
        drafts.append(overview)
        # Snippets prefer facts the overview left out, so short overviews lose nothing.
        left_out = [f for f in facts if f not in overview.facts]
        for _ in range(rng.choice((0, 1, 1, 2))):
            fact = rng.choice(left_out or facts)
            drafts.append(_snippet(entity, fact, rng))
            if fact in left_out:
                left_out.remove(fact)
    drafts.extend(_digests(world, visible, rng))
    rng.shuffle(drafts)

    records: list[dict[str, str]] = []
    evidence: dict[FactKey, list[str]] = {}
    for n, draft in enumerate(drafts, start=1):
        pid = f"p{n:05d}"
        records.append({"id": pid, "title": draft.title, "text": draft.text})
        for fact in draft.facts:
            ids = evidence.setdefault(fact_key(fact), [])
            if pid not in ids:
                ids.append(pid)
    return records, evidence
