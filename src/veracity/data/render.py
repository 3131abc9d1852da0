"""Turns facts into sentences: value wording, template filling, and wrong values for contradictions."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from veracity.data.templates import ANAPHORS, PRONOUNS, Template, Topic, with_article
from veracity.data.world import (
    INDUSTRIES,
    PRODUCTS,
    PROFESSIONS,
    Entity,
    Fact,
    Value,
    World,
    round_count,
)

_TEXT_POOLS = {"industry": INDUSTRIES, "profession": PROFESSIONS, "product": PRODUCTS}
_COUNTS = ("population", "employees")
_LENGTHS = ("river_km", "ship_m")


def value_text(topic: Topic, value: Value) -> str:
    """How a value reads inside a sentence."""
    if isinstance(value, Entity):
        return value.ref
    if isinstance(value, int) and topic.value_type in _COUNTS:
        return f"{value:,}"
    return str(value)


@dataclass(frozen=True)
class Line:
    """One sentence to be: a template about a subject, with a value unless it is a filler."""

    subject: Entity
    template: Template
    value: str = ""


def fill(template: Template, subject_ref: str, value: str) -> str:
    text = template.text.format(s=subject_ref, v=value, v_a=with_article(value) if value else "")
    return text[0].upper() + text[1:]


def render(lines: Sequence[Line], rng: random.Random, anaphor_rate: float = 0.35) -> str:
    """Join sentences, sometimes referring back to the previous sentence's subject."""
    sentences: list[str] = []
    previous: Entity | None = None
    for line in lines:
        ref = line.subject.ref
        follows = previous is not None and previous.key == line.subject.key
        if follows and line.template.text.startswith("{s} ") and rng.random() < anaphor_rate:
            subject = line.subject
            ref = PRONOUNS[subject.gender] if subject.kind == "person" else rng.choice(ANAPHORS[subject.kind])
        sentences.append(fill(line.template, ref, line.value))
        previous = line.subject
    return " ".join(sentences)


def fact_line(fact: Fact, rng: random.Random, family: str | None) -> Line:
    template = rng.choice(fact.topic.premise_templates(family))
    return Line(fact.subject, template, value_text(fact.topic, fact.value))


def claim_text(subject: Entity, topic: Topic, value: Value, rng: random.Random, family: str | None) -> str:
    template = rng.choice(topic.claim_templates(family))
    return fill(template, subject.ref, value_text(topic, value))


def _scaled(value: int, rng: random.Random, count: bool) -> int:
    factor = rng.uniform(0.25, 0.65) if rng.random() < 0.5 else rng.uniform(1.6, 3.5)
    scaled = round_count(value * factor) if count else max(5, round(value * factor))
    return scaled if scaled != value else value * 2


def clearly_differs(topic: Topic, value: Value, other: Value) -> bool:
    """Whether `other` contradicts `value` outright, not merely as a rounding of it."""
    if isinstance(value, int) and isinstance(other, int):
        gap = abs(value - other)
        # Years are exact; counts and lengths are "about", so they must differ by a quarter.
        return gap >= 3 if topic.value_type == "year" else gap >= 0.25 * max(value, other)
    return value != other


def wrong_value(world: World, fact: Fact, rng: random.Random) -> Value:
    """A value for `fact`'s attribute that plainly differs from the true one."""
    topic, value = fact.topic, fact.value
    # A look-alike's real value is the hardest wrong value: it is true of a near-namesake.
    for other in world.look_alikes(fact.subject):
        theirs = world.value(other, topic.key)
        if theirs is not None and clearly_differs(topic, value, theirs) and rng.random() < 0.3:
            return theirs
    kind = topic.value_type
    if isinstance(value, Entity):
        choices: Sequence[Value] = world.entities[value.kind]
    elif kind == "year":
        assert isinstance(value, int)
        return value + rng.choice((-1, 1)) * rng.randint(4, 60)
    elif kind in _COUNTS or kind in _LENGTHS:
        assert isinstance(value, int)
        return _scaled(value, rng, kind in _COUNTS)
    elif kind == "region":
        choices = world.regions
    elif kind == "sea":
        choices = world.seas
    elif kind == "source":
        choices = world.sources
    else:
        choices = _TEXT_POOLS[kind]
    while True:
        pick = rng.choice(choices)
        if pick != value:
            return pick
