"""A seeded fictional world of towns, people, companies, rivers and ships whose facts no model knows."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from veracity.data.templates import TOPIC_BY_KEY, TOPICS, Topic

INDUSTRIES = (
    "salt mining",
    "glassmaking",
    "wool weaving",
    "shipbuilding",
    "cheese making",
    "clockmaking",
    "paper milling",
    "copper smelting",
    "herring fishing",
    "brewing",
    "timber felling",
    "leather tanning",
    "pottery",
    "silk weaving",
    "slate quarrying",
    "fruit growing",
)
PROFESSIONS = (
    "painter",
    "shipwright",
    "cartographer",
    "botanist",
    "surveyor",
    "glassblower",
    "engineer",
    "composer",
    "printer",
    "physician",
    "astronomer",
    "architect",
    "weaver",
    "sculptor",
    "teacher",
    "merchant",
    "lawyer",
    "organ builder",
)
PRODUCTS = (
    "brass instruments",
    "rope",
    "glass lenses",
    "pocket watches",
    "writing paper",
    "canned fish",
    "bicycles",
    "lamp oil",
    "ceramic tiles",
    "printing presses",
    "woollen blankets",
    "telescopes",
    "sewing machines",
    "cast-iron stoves",
    "sailcloth",
    "chocolate",
    "road maps",
    "violins",
)

_ONSETS = (
    "b",
    "br",
    "c",
    "d",
    "dr",
    "f",
    "g",
    "gr",
    "h",
    "k",
    "kr",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "st",
    "t",
    "th",
    "tr",
    "v",
    "w",
    "z",
    "",
    "",
)
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o")
_CODAS = ("", "", "l", "n", "r", "s", "m", "nd", "rk", "st", "ld", "v")
_TOWN_ENDINGS = (
    "mora",
    "wick",
    "holm",
    "stad",
    "ford",
    "ven",
    "dal",
    "by",
    "mere",
    "gate",
    "thorpe",
    "ness",
    "burg",
    "heim",
    "wyn",
    "ton",
)
_TOWN_VARIANTS = ("Port {}", "Upper {}", "New {}", "{} Cross", "{} Bridge", "Little {}")
_FEMALE_ENDINGS = ("a", "ia", "ine", "elle", "wen", "ra", "ika", "et")
_MALE_ENDINGS = ("o", "an", "ric", "us", "ard", "in", "ek", "ol")
_SURNAME_ENDINGS = (
    "holt",
    "ner",
    "vik",
    "berg",
    "worth",
    "ley",
    "sen",
    "mark",
    "well",
    "ard",
    "by",
    "ström",
    "ey",
    "ton",
)
_REGION_ENDINGS = ("land", "mark", "shire", " Vale", " Coast", "moor", "dale", " Heath")
_COMPANY_SUFFIXES = (
    "Works",
    "& Sons",
    "& Daughters",
    "Trading Company",
    "Manufacturing",
    "Brothers",
    "Holdings",
    "Company",
    "Industries",
    "Cooperative",
    "Partners",
)
_SHIP_ADJECTIVES = (
    "Grey",
    "Silver",
    "Northern",
    "Swift",
    "Morning",
    "Quiet",
    "Iron",
    "Amber",
    "Scarlet",
    "Bold",
    "Wandering",
    "Golden",
    "Patient",
    "Bright",
    "Western",
    "Evening",
    "Steady",
    "Proud",
    "Faithful",
    "Winter",
)
_SHIP_NOUNS = (
    "Heron",
    "Petrel",
    "Lark",
    "Otter",
    "Comet",
    "Lantern",
    "Harvest",
    "Tern",
    "Falcon",
    "Wren",
    "Mariner",
    "Star",
    "Gull",
    "Pike",
    "Hazel",
    "Swallow",
    "Fortune",
    "Promise",
    "Plover",
    "Curlew",
)
_SEA_FORMS = ("the Sea of {}", "the {} Sound", "the Bay of {}", "the {} Gulf")
_SOURCE_FORMS = ("the {} Hills", "Lake {}", "the {} Fells", "the {} Moors", "the {} Glacier")


@dataclass(frozen=True)
class Entity:
    """Something the world has facts about; `stem` is shared by entities with look-alike names."""

    key: str
    kind: str
    name: str
    ref: str
    stem: str
    gender: str = ""


Value = int | str | Entity


@dataclass(frozen=True)
class Fact:
    """One attribute value of one entity."""

    subject: Entity
    topic: Topic
    value: Value


@dataclass(frozen=True)
class WorldSize:
    """How many base entities of each kind to make; near-duplicates are added on top."""

    towns: int
    persons: int
    companies: int
    rivers: int
    ships: int
    near_duplicate_share: float = 0.3


@dataclass
class World:
    """Entities by kind, their facts, and the pools that wrong values are drawn from."""

    entities: dict[str, list[Entity]] = field(default_factory=dict)
    facts: dict[str, dict[str, Fact]] = field(default_factory=dict)
    regions: list[str] = field(default_factory=list)
    seas: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add(self, entity: Entity) -> Entity:
        self.entities.setdefault(entity.kind, []).append(entity)
        self.facts[entity.key] = {}
        return entity

    def set(self, entity: Entity, topic_key: str, value: Value) -> None:
        self.facts[entity.key][topic_key] = Fact(entity, TOPIC_BY_KEY[topic_key], value)

    def year(self, entity: Entity, topic_key: str) -> int | None:
        value = self.value(entity, topic_key)
        return value if isinstance(value, int) else None

    def value(self, entity: Entity, topic_key: str) -> Value | None:
        fact = self.facts[entity.key].get(topic_key)
        return None if fact is None else fact.value

    def facts_of(self, entity: Entity) -> list[Fact]:
        # Topic order, not insertion order, so output never depends on construction order.
        mine = self.facts[entity.key]
        return [mine[t.key] for t in TOPICS if t.key in mine]

    def all_entities(self) -> list[Entity]:
        return [e for kind in ("town", "person", "company", "river", "ship") for e in self.entities.get(kind, [])]

    def look_alikes(self, entity: Entity) -> list[Entity]:
        """Other entities of the same kind whose names share this one's stem."""
        return [
            other
            for other in self.entities.get(entity.kind, [])
            if other.stem == entity.stem and other.key != entity.key
        ]


class NameMaker:
    """Invents pronounceable names, never the same one twice across every world it serves."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _syllable(self) -> str:
        r = self.rng
        return r.choice(_ONSETS) + r.choice(_VOWELS) + r.choice(_CODAS)

    def _stem(self) -> str:
        stem = self._syllable()
        if len(stem) < 3 or self.rng.random() < 0.35:
            # An open second syllable keeps two-syllable names short enough to say.
            stem += self.rng.choice(_ONSETS) + self.rng.choice(_VOWELS)
        return stem

    def claim(self, make: Callable[[], str]) -> str:
        for _ in range(1000):
            name = make()
            if name not in self.used and len(name) <= 40:
                self.used.add(name)
                return name
        raise RuntimeError("name space exhausted; enlarge the syllable tables")

    def try_claim(self, name: str) -> bool:
        if name in self.used:
            return False
        self.used.add(name)
        return True

    def town(self) -> str:
        return self.claim(lambda: (self._stem() + self.rng.choice(_TOWN_ENDINGS)).capitalize())

    def region(self) -> str:
        return self.claim(lambda: self._stem().capitalize() + self.rng.choice(_REGION_ENDINGS))

    def first_name(self, gender: str) -> str:
        endings = _FEMALE_ENDINGS if gender == "female" else _MALE_ENDINGS
        while True:
            head = self._syllable()
            # A consonant must meet the ending, or names like "Oo" and "Aea" come out.
            if head[-1:] not in "aeiou":
                return (head + self.rng.choice(endings)).capitalize()

    def surname(self) -> str:
        # Claimed on its own too: no two families, in any world, share a surname.
        return self.claim(lambda: (self._stem() + self.rng.choice(_SURNAME_ENDINGS)).capitalize())

    def person(self, gender: str, surname: str | None = None) -> str:
        family = surname or self.surname()
        return self.claim(lambda: f"{self.first_name(gender)} {family}")

    def word(self) -> str:
        return self.claim(lambda: self._stem().capitalize())

    def river(self) -> str:
        return self.claim(lambda: self._syllable().capitalize() + self.rng.choice(("", "", "ow", "en", "ey")))

    def ship(self) -> str:
        return self.claim(lambda: f"{self.rng.choice(_SHIP_ADJECTIVES)} {self.rng.choice(_SHIP_NOUNS)}")

    def pool(self, forms: tuple[str, ...], n: int) -> list[str]:
        return [self.claim(lambda: self.rng.choice(forms).format(self.word())) for _ in range(n)]


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def round_count(x: float) -> int:
    """Round a head count the way a gazetteer would: 3 significant figures at most."""
    digits = max(0, len(str(int(x))) - 2)
    return max(10, int(round(x, -digits)))


class _Builder:
    def __init__(self, rng: random.Random, names: NameMaker, size: WorldSize, prefix: str) -> None:
        self.rng = rng
        self.names = names
        self.size = size
        self.prefix = prefix
        self.world = World()

    def entity(self, kind: str, name: str, stem: str, gender: str = "") -> Entity:
        n = len(self.world.entities.get(kind, []))
        ref = f"the {name}" if kind in ("river", "ship") else name
        key = f"{self.prefix}{kind}:{n:04d}"
        return self.world.add(Entity(key, kind, name, ref, stem, gender))

    def duplicate(self) -> bool:
        return self.rng.random() < self.size.near_duplicate_share

    def build(self) -> World:
        w, names = self.world, self.names
        w.regions = [names.region() for _ in range(max(3, self.size.towns // 25))]
        w.seas = names.pool(_SEA_FORMS, max(3, self.size.rivers // 6))
        self.rivers()
        self.persons()
        self.towns()
        self.lives()
        self.companies()
        self.ships()
        w.sources = [str(w.value(river, "river.source")) for river in w.entities["river"]]
        return w

    def rivers(self) -> None:
        w, r = self.world, self.rng
        for _ in range(self.size.rivers):
            name = self.names.river()
            region = r.choice(w.regions)
            group = [self.entity("river", name, name)]
            if self.duplicate() and self.names.try_claim(f"Little {name}"):
                group.append(self.entity("river", f"Little {name}", name))
            for river in group:
                w.set(river, "river.length", round(_log_uniform(r, 20, 900)))
                w.set(river, "river.source", self.names.pool(_SOURCE_FORMS, 1)[0])
                w.set(river, "river.mouth", r.choice(w.seas))
                w.set(river, "river.region", region)

    def persons(self) -> None:
        w, r = self.world, self.rng
        for _ in range(self.size.persons):
            gender = r.choice(("female", "male"))
            surname = self.names.surname()
            group = [self.entity("person", self.names.person(gender, surname), surname, gender)]
            if self.duplicate():
                # A sibling: same surname, so a retriever keyed on names has two close candidates.
                other = r.choice(("female", "male"))
                group.append(self.entity("person", self.names.person(other, surname), surname, other))
            for person in group:
                born = r.randint(1080, 1925)
                died = min(born + r.randint(28, 92), 2015)
                w.set(person, "person.birth_year", born)
                w.set(person, "person.profession", r.choice(PROFESSIONS))
                w.set(person, "person.death_year", died)

    def lifetime(self, person: Entity) -> tuple[int, int]:
        born = self.world.year(person, "person.birth_year")
        died = self.world.year(person, "person.death_year")
        assert born is not None and died is not None
        return born, died

    def active_year(self, person: Entity) -> int:
        """A year in which `person` was an adult and alive, to date what they founded or led."""
        born, died = self.lifetime(person)
        return born + self.rng.randint(20, max(20, min(55, died - born - 1)))

    def towns(self) -> None:
        w, r = self.world, self.rng
        for _ in range(self.size.towns):
            name = self.names.town()
            region = r.choice(w.regions)
            group = [self.entity("town", name, name)]
            if self.duplicate():
                variant = r.choice(_TOWN_VARIANTS).format(name)
                if self.names.try_claim(variant):
                    group.append(self.entity("town", variant, name))
            for town in group:
                founder = r.choice(w.entities["person"])
                local = [rv for rv in w.entities["river"] if w.value(rv, "river.region") == region]
                w.set(town, "town.region", region)
                w.set(town, "town.founded", self.active_year(founder))
                w.set(town, "town.population", round_count(_log_uniform(r, 300, 250_000)))
                w.set(town, "town.river", r.choice(local or w.entities["river"]))
                w.set(town, "town.founder", founder)
                w.set(town, "town.industry", r.choice(INDUSTRIES))

    def towns_before(self, year: int) -> list[Entity]:
        towns = self.world.entities["town"]
        return [t for t in towns if (self.world.year(t, "town.founded") or 0) < year]

    def lives(self) -> None:
        w, r = self.world, self.rng
        for person in w.entities["person"]:
            born, died = self.lifetime(person)
            if birth_towns := self.towns_before(born):
                w.set(person, "person.birthplace", r.choice(birth_towns))
            if death_towns := self.towns_before(died):
                w.set(person, "person.death_place", r.choice(death_towns))

    def companies(self) -> None:
        w, r = self.world, self.rng
        founders = [p for p in w.entities["person"] if self.lifetime(p)[0] >= 1580]
        for _ in range(self.size.companies):
            stem = self.names.word()
            suffixes = r.sample(_COMPANY_SUFFIXES, 2)
            names = [f"{stem} {suffixes[0]}"]
            if self.duplicate():
                names.append(f"{stem} {suffixes[1]}")
            for name in names:
                if not self.names.try_claim(name):
                    continue
                company = self.entity("company", name, stem)
                founder = r.choice(founders)
                founded = self.active_year(founder)
                w.set(company, "company.founded", founded)
                if homes := self.towns_before(founded):
                    w.set(company, "company.headquarters", r.choice(homes))
                w.set(company, "company.founder", founder)
                w.set(company, "company.product", r.choice(PRODUCTS))
                w.set(company, "company.employees", round_count(_log_uniform(r, 12, 9000)))

    def ships(self) -> None:
        w, r = self.world, self.rng
        captains = [p for p in w.entities["person"] if self.lifetime(p)[0] >= 1650]
        for _ in range(self.size.ships):
            name = self.names.ship()
            group = [self.entity("ship", name, name)]
            if self.duplicate():
                variant = f"{name} {r.choice(('II', 'III'))}"
                if self.names.try_claim(variant):
                    group.append(self.entity("ship", variant, name))
            for ship in group:
                captain = r.choice(captains)
                launched = self.active_year(captain)
                w.set(ship, "ship.launched", launched)
                yards = [c for c in w.entities["company"] if (w.year(c, "company.founded") or launched) < launched]
                if yards:
                    w.set(ship, "ship.builder", r.choice(yards))
                if ports := self.towns_before(launched):
                    w.set(ship, "ship.home_port", r.choice(ports))
                w.set(ship, "ship.length", round(_log_uniform(r, 12, 120)))
                w.set(ship, "ship.captain", captain)


def build_world(rng: random.Random, names: NameMaker, size: WorldSize, prefix: str = "") -> World:
    """A consistent world: founders were adults when they founded, towns existed before births."""
    return _Builder(rng, names, size, prefix).build()
