"""Sentence templates for every kind of fact in the fictional world, in passage and claim styles."""

from __future__ import annotations

from dataclasses import dataclass

# Family "a" templates are the only ones NLI training pairs may use; family "b" is held out for
# the NLI test split, so its score measures phrasings the model has never been trained on.
TRAIN_FAMILY = "a"
TEST_FAMILY = "b"

# Fields a template may use: {s} the subject as named in a sentence, {v} the value, {v_a} the value
# with its indefinite article. A template that starts with "{s} " may have {s} swapped for an
# anaphor ("The town", "She") when it follows a sentence about the same subject.


@dataclass(frozen=True)
class Template:
    """One phrasing and the family (train "a" / held-out "b") it belongs to."""

    family: str
    text: str


@dataclass(frozen=True)
class Topic:
    """One attribute of one kind of entity: how its value is drawn and how it is phrased."""

    key: str
    kind: str
    value_type: str
    premises: tuple[Template, ...]
    claims: tuple[Template, ...]

    def premise_templates(self, family: str | None) -> tuple[Template, ...]:
        return tuple(t for t in self.premises if family is None or t.family == family)

    def claim_templates(self, family: str | None) -> tuple[Template, ...]:
        return tuple(t for t in self.claims if family is None or t.family == family)


def _topic(key: str, value_type: str, premises: tuple[str, ...], claims: tuple[str, ...]) -> Topic:
    # The last phrasing of each list is the held-out one.
    def family(i: int, n: int) -> str:
        return TEST_FAMILY if i == n - 1 else TRAIN_FAMILY

    return Topic(
        key=key,
        kind=key.split(".")[0],
        value_type=value_type,
        premises=tuple(Template(family(i, len(premises)), t) for i, t in enumerate(premises)),
        claims=tuple(Template(family(i, len(claims)), t) for i, t in enumerate(claims)),
    )


TOPICS: tuple[Topic, ...] = (
    _topic(
        "town.region",
        "region",
        (
            "{s} is situated in the region of {v}.",
            "{s} lies in {v}.",
            "The town of {s} is part of the {v} region.",
            "Among the towns of {v} is {s}.",
        ),
        (
            "{s} is located in {v}.",
            "{s} belongs to the region of {v}.",
            "{s} is a town situated in {v}.",
            "{v} is the region in which {s} lies.",
        ),
    ),
    _topic(
        "town.founded",
        "year",
        (
            "{s} was founded in {v}.",
            "{s} was established in {v}.",
            "Records show that {s} was founded in {v}.",
            "The founding of {s} dates to {v}.",
        ),
        (
            "{s} was founded in the year {v}.",
            "{s} has existed since its founding in {v}.",
            "The town of {s} was established in {v}.",
            "{s} dates back to {v}.",
        ),
    ),
    _topic(
        "town.population",
        "population",
        (
            "{s} has a population of about {v}.",
            "Around {v} people live in {s}.",
            "{s} counts roughly {v} inhabitants.",
            "The most recent census counted roughly {v} residents in {s}.",
        ),
        (
            "{s} is home to roughly {v} people.",
            "The population of {s} is about {v}.",
            "Roughly {v} people call {s} home.",
            "About {v} inhabitants live in {s}.",
        ),
    ),
    _topic(
        "town.river",
        "river",
        (
            "{s} stands on the banks of {v}.",
            "{v} flows through {s}.",
            "{s} was built where the road crosses {v}.",
            "{s} grew up beside {v}.",
        ),
        (
            "{s} lies on {v}.",
            "The river that runs through {s} is {v}.",
            "{s} is a town on {v}.",
            "{v} runs through the town of {s}.",
        ),
    ),
    _topic(
        "town.founder",
        "person",
        (
            "{s} was founded by {v}.",
            "{v} is credited with founding {s}.",
            "{s} was laid out by its founder, {v}.",
            "The settlement that became {s} was started by {v}.",
        ),
        (
            "{v} founded {s}.",
            "The founder of {s} was {v}.",
            "{v} established the town of {s}.",
            "{s} owes its founding to {v}.",
        ),
    ),
    _topic(
        "town.industry",
        "industry",
        (
            "The main industry of {s} is {v}.",
            "{s} is known above all for {v}.",
            "{s} has long lived from {v}.",
            "Most jobs in {s} depend on {v}.",
        ),
        (
            "{s} is chiefly known for {v}.",
            "{v} is the leading industry in {s}.",
            "The town of {s} lives mainly from {v}.",
            "The economy of {s} rests mainly on {v}.",
        ),
    ),
    _topic(
        "person.birth_year",
        "year",
        (
            "{s} was born in {v}.",
            "Born in {v}, {s} grew up in a large family.",
            "{s} came into the world in {v}.",
            "Parish records give {v} as the year in which {s} was born.",
        ),
        (
            "{s} was born in the year {v}.",
            "The birth year of {s} is {v}.",
            "The birth of {s} took place in {v}.",
            "{v} is the year of {s}'s birth.",
        ),
    ),
    _topic(
        "person.birthplace",
        "town",
        (
            "{s} was born in {v}.",
            "{s} is a native of {v}.",
            "{s} was born and raised in {v}.",
            "{v} is the birthplace of {s}.",
        ),
        (
            "{s} was born in the town of {v}.",
            "{s} comes from {v}.",
            "The birthplace of {s} is {v}.",
            "The hometown of {s} is {v}.",
        ),
    ),
    _topic(
        "person.profession",
        "profession",
        (
            "{s} worked as {v_a}.",
            "{s} was {v_a} by trade.",
            "{s} trained and worked as {v_a}.",
            "For most of a long career, {s} earned a living as {v_a}.",
        ),
        (
            "{s} was {v_a}.",
            "{s} made a living as {v_a}.",
            "{s} worked in the profession of {v}.",
            "By profession, {s} was {v_a}.",
        ),
    ),
    _topic(
        "person.death_year",
        "year",
        (
            "{s} died in {v}.",
            "{s} passed away in {v}.",
            "{s} lived until {v}.",
            "The death of {s} in {v} was noted in several newspapers.",
        ),
        (
            "{s} died in the year {v}.",
            "The year of {s}'s death was {v}.",
            "{s} passed away in the year {v}.",
            "{v} is the year in which {s} died.",
        ),
    ),
    _topic(
        "person.death_place",
        "town",
        (
            "{s} died in {v}.",
            "{s} spent the last years of life in {v} and died there.",
            "{s} passed away in {v}.",
            "{v} is where {s} died.",
        ),
        (
            "{s} died in the town of {v}.",
            "The place of death of {s} was {v}.",
            "{s} ended their days in {v}.",
            "The town where {s} died is {v}.",
        ),
    ),
    _topic(
        "company.founded",
        "year",
        (
            "{s} was founded in {v}.",
            "{s} has been in business since {v}.",
            "{s} was set up in {v}.",
            "The company {s} opened its doors in {v}.",
        ),
        (
            "{s} was established in {v}.",
            "{s} dates from {v}.",
            "The company {s} was founded in {v}.",
            "{s} began operating in {v}.",
        ),
    ),
    _topic(
        "company.headquarters",
        "town",
        (
            "{s} has its headquarters in {v}.",
            "{s} is based in {v}.",
            "{s} runs its business from offices in {v}.",
            "The head office of {s} is in {v}.",
        ),
        (
            "{s} is headquartered in {v}.",
            "The main office of {s} is located in {v}.",
            "{s} is a company based in {v}.",
            "{v} is home to the headquarters of {s}.",
        ),
    ),
    _topic(
        "company.founder",
        "person",
        (
            "{s} was founded by {v}.",
            "{v} started {s}.",
            "{s} was created by {v}.",
            "{s} was set up by {v}.",
        ),
        (
            "{v} founded {s}.",
            "The founder of {s} is {v}.",
            "{v} is the person who started {s}.",
            "{s} was started by {v}.",
        ),
    ),
    _topic(
        "company.product",
        "product",
        (
            "{s} makes {v}.",
            "{s} is best known for its {v}.",
            "The workshops of {s} turn out {v}.",
            "The main product of {s} is {v}.",
        ),
        (
            "{s} produces {v}.",
            "{s} manufactures {v}.",
            "{s} is a maker of {v}.",
            "{s} is chiefly known for making {v}.",
        ),
    ),
    _topic(
        "company.employees",
        "employees",
        (
            "{s} employs about {v} people.",
            "{s} has a workforce of roughly {v}.",
            "{s} has some {v} people on its payroll.",
            "Around {v} staff work for {s}.",
        ),
        (
            "{s} has about {v} employees.",
            "Roughly {v} people work at {s}.",
            "{s} gives work to about {v} people.",
            "The workforce of {s} numbers about {v}.",
        ),
    ),
    _topic(
        "river.length",
        "river_km",
        (
            "{s} is {v} kilometres long.",
            "{s} runs for some {v} kilometres.",
            "{s} has a total length of {v} kilometres.",
            "Over its course of {v} kilometres, {s} passes many villages.",
        ),
        (
            "{s} has a length of about {v} km.",
            "{s} is roughly {v} kilometres in length.",
            "The length of {s} is {v} kilometres.",
            "{s} measures {v} kilometres from source to mouth.",
        ),
    ),
    _topic(
        "river.source",
        "source",
        (
            "{s} rises in {v}.",
            "The source of {s} is in {v}.",
            "{s} springs from {v}.",
            "{s} begins its course in {v}.",
        ),
        (
            "{s} has its source in {v}.",
            "{s} starts in {v}.",
            "{s} takes its source in {v}.",
            "The source of {s} lies in {v}.",
        ),
    ),
    _topic(
        "river.mouth",
        "sea",
        (
            "{s} flows into {v}.",
            "{s} empties into {v}.",
            "{s} ends at {v}.",
            "{s} ends its journey at {v}.",
        ),
        (
            "{s} drains into {v}.",
            "The mouth of {s} is on {v}.",
            "{s} reaches the sea at {v}.",
            "{v} is where {s} ends.",
        ),
    ),
    _topic(
        "river.region",
        "region",
        (
            "{s} flows through the region of {v}.",
            "{s} is one of the waterways of {v}.",
            "{s} winds across the region of {v}.",
            "Most of the course of {s} lies within {v}.",
        ),
        (
            "{s} is located in {v}.",
            "{s} runs through {v}.",
            "{s} is a river in the region of {v}.",
            "{v} is the region that {s} crosses.",
        ),
    ),
    _topic(
        "ship.launched",
        "year",
        (
            "{s} was launched in {v}.",
            "{s} first went to sea in {v}.",
            "{s} entered service in {v}.",
            "{s} slid down the slipway in {v}.",
        ),
        (
            "{s} was put into the water in {v}.",
            "The launch of {s} took place in {v}.",
            "{s} was launched in the year {v}.",
            "{s} has sailed since {v}.",
        ),
    ),
    _topic(
        "ship.builder",
        "company",
        (
            "{s} was built by {v}.",
            "{v} built {s}.",
            "{s} was constructed by {v}.",
            "{s} came out of the yards of {v}.",
        ),
        (
            "{v} constructed {s}.",
            "The builder of {s} was {v}.",
            "{s} is a ship made by {v}.",
            "{s} was built at {v}.",
        ),
    ),
    _topic(
        "ship.home_port",
        "town",
        (
            "The home port of {s} is {v}.",
            "{s} is registered in {v}.",
            "{s} sails from its home port of {v}.",
            "{s} sails out of {v}.",
        ),
        (
            "{s} has its home port in {v}.",
            "{v} is the home port of {s}.",
            "{s} is registered at the port of {v}.",
            "{s} is based at {v}.",
        ),
    ),
    _topic(
        "ship.length",
        "ship_m",
        (
            "{s} is {v} metres long.",
            "{s} measures {v} metres from bow to stern.",
            "{s} has a hull {v} metres long.",
            "{s} has an overall length of {v} metres.",
        ),
        (
            "{s} is about {v} metres in length.",
            "The length of {s} is {v} metres.",
            "{s} is a vessel of {v} metres.",
            "{s} stretches {v} metres.",
        ),
    ),
    _topic(
        "ship.captain",
        "person",
        (
            "{s} was commanded by {v}.",
            "{v} served as captain of {s}.",
            "{v} was the master of {s}.",
            "{s} sailed under the command of {v}.",
        ),
        (
            "{v} was the captain of {s}.",
            "{s} was captained by {v}.",
            "{v} was in command of {s}.",
            "{v} commanded {s}.",
        ),
    ),
)

TOPIC_BY_KEY = {topic.key: topic for topic in TOPICS}

# Colour sentences that state none of the topics above, so passages and premises have a
# realistic length without adding facts a claim could depend on.
FILLERS: dict[str, tuple[Template, ...]] = {
    "town": (
        Template("a", "The old market hall of {s} was rebuilt after a fire."),
        Template("a", "{s} is known for its narrow lanes and steep roofs."),
        Template("a", "A weekly market is held on the square of {s}."),
        Template("a", "{s} has a small museum of local history."),
        Template("b", "Visitors to {s} often remark on its quiet streets."),
        Template("b", "The chapel in {s} has a carved wooden door."),
    ),
    "person": (
        Template("a", "Letters written by {s} are kept in a regional archive."),
        Template("a", "{s} was described by friends as patient and curious."),
        Template("a", "A portrait of {s} hangs in a provincial gallery."),
        Template("a", "{s} kept a detailed diary for many years."),
        Template("b", "Several anecdotes about {s} circulate among local historians."),
        Template("b", "{s} was fond of long walks in the countryside."),
    ),
    "company": (
        Template("a", "The offices of {s} occupy a converted warehouse."),
        Template("a", "{s} publishes a short catalogue every spring."),
        Template("a", "{s} has changed its logo several times."),
        Template("a", "{s} sponsors a local rowing club."),
        Template("b", "The archives of {s} are open to researchers."),
        Template("b", "{s} is owned by a family trust."),
    ),
    "river": (
        Template("a", "Anglers fish the upper reaches of {s} in spring."),
        Template("a", "{s} is crossed by several old stone bridges."),
        Template("a", "{s} is known for its clear water."),
        Template("a", "Herons nest along the banks of {s}."),
        Template("b", "In dry summers {s} runs low between its gravel banks."),
        Template("b", "Painters have long been drawn to the meadows along {s}."),
    ),
    "ship": (
        Template("a", "The figurehead of {s} shows a carved bird."),
        Template("a", "{s} has a crew of a few dozen sailors."),
        Template("a", "{s} is painted in dark green and white."),
        Template("a", "{s} was refitted with new masts at one point."),
        Template("b", "Models of {s} are sold in harbour shops."),
        Template("b", "{s} carries a brass bell on its foredeck."),
    ),
}

# How a later sentence may refer back to the subject of the sentence before it.
ANAPHORS: dict[str, tuple[str, ...]] = {
    "town": ("The town",),
    "company": ("The company", "The firm"),
    "river": ("The river",),
    "ship": ("The ship", "The vessel"),
}
PRONOUNS = {"female": "She", "male": "He"}


def with_article(word: str) -> str:
    """`word` with "a" or "an" in front, chosen by its first letter."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word
