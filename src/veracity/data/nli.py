"""Builds labelled NLI pairs (passage-like premise, claim-like hypothesis) with a held-out test split."""

from __future__ import annotations

import random

from veracity.data import NLI_LABELS
from veracity.data.render import Line, claim_text, clearly_differs, fact_line, render, wrong_value
from veracity.data.templates import FILLERS, TEST_FAMILY, TOPICS, TRAIN_FAMILY, Topic
from veracity.data.world import Entity, Fact, Value, World

ENTAILMENT, NEUTRAL, CONTRADICTION = NLI_LABELS


def _premise(world: World, key: Fact, avoid: str, family: str, rng: random.Random) -> tuple[str, list[Fact]]:
    """The key fact among 0-3 other facts of the same entity and maybe a filler, in any order."""
    others = [f for f in world.facts_of(key.subject) if f.topic.key not in (key.topic.key, avoid)]
    n_others = min(len(others), rng.choice((0, 0, 0, 1, 1, 2, 2, 3)))
    facts = [key, *rng.sample(others, n_others)]
    rng.shuffle(facts)
    lines = [fact_line(f, rng, family) for f in facts]
    if rng.random() < 0.3:
        fillers = [t for t in FILLERS[key.subject.kind] if t.family == family]
        lines.insert(rng.randint(1, len(lines)), Line(key.subject, rng.choice(fillers)))
    return render(lines, rng), facts


def _hypothesis(world: World, key: Fact, facts: list[Fact], label: str, family: str, rng: random.Random) -> str | None:
    subject: Entity = key.subject
    topic: Topic = key.topic
    value: Value = key.value
    if label == CONTRADICTION:
        # Sometimes the wrong value is one the premise states for another attribute, so a
        # model cannot call "the value appears in the premise" an entailment.
        same_type = [
            f.value
            for f in facts
            if f is not key and f.topic.value_type == topic.value_type and clearly_differs(topic, value, f.value)
        ]
        value = rng.choice(same_type) if same_type and rng.random() < 0.5 else wrong_value(world, key, rng)
    elif label == NEUTRAL:
        look_alikes = [e for e in world.look_alikes(subject) if world.value(e, topic.key) is not None]
        if look_alikes and rng.random() < 0.5:
            # A near-namesake with the same attribute: neutral even when the value matches.
            subject = rng.choice(look_alikes)
            if rng.random() < 0.5:
                value = world.facts[subject.key][topic.key].value
        else:
            stated = {f.topic.key for f in facts}
            unstated = [f for f in world.facts_of(subject) if f.topic.key not in stated]
            if not unstated:
                return None
            other = rng.choice(unstated)
            topic, value = other.topic, other.value
    return claim_text(subject, topic, value, rng, family)


def _pairs_for_split(world: World, split: str, family: str, per_label: int, rng: random.Random) -> list[dict[str, str]]:
    pairs: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for label in NLI_LABELS:
        order = list(TOPICS)
        rng.shuffle(order)
        for i in range(per_label):
            topic = order[i % len(order)]
            holders = [e for e in world.entities[topic.kind] if world.value(e, topic.key) is not None]
            for _ in range(100):
                key = world.facts[rng.choice(holders).key][topic.key]
                # For neutral pairs one other attribute is kept out of the premise to ask about.
                spare = [f.topic.key for f in world.facts_of(key.subject) if f.topic is not topic]
                avoid = rng.choice(spare) if label == NEUTRAL and spare else ""
                premise, facts = _premise(world, key, avoid, family, rng)
                hypothesis = _hypothesis(world, key, facts, label, family, rng)
                if hypothesis is not None and (premise, hypothesis) not in seen:
                    break
            else:
                raise RuntimeError(f"cannot make a fresh {label} pair for {topic.key}")
            seen.add((premise, hypothesis))
            pairs.append(
                {
                    "premise": premise,
                    "hypothesis": hypothesis,
                    "label": label,
                    "split": split,
                    "group": f"{topic.key}.{family}",
                }
            )
    return pairs


def build_nli_pairs(
    train_world: World,
    test_world: World,
    rng: random.Random,
    train_per_label: int,
    test_per_label: int,
) -> list[dict[str, str]]:
    """Train pairs use only family-a templates and entities; test pairs family-b ones."""
    pairs = _pairs_for_split(train_world, "train", TRAIN_FAMILY, train_per_label, rng)
    pairs += _pairs_for_split(test_world, "test", TEST_FAMILY, test_per_label, rng)
    rng.shuffle(pairs)
    return [{"id": f"n{n:05d}", **pair} for n, pair in enumerate(pairs, start=1)]
