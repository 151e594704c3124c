"""The agencies people confuse with the Instituto, and whether a question is for one of them.

The table is data (`agencies.yml`, with the decision rule written at its top); `match(question)`
is pure and fast (phrases of the table, no model): it runs before the knowledge base is searched,
so "¿cómo tramito mi pasaporte?" is told where to go instead of getting a wrong article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.text import fold_accents

FILE = Path(__file__).resolve().with_name("agencies.yml")
INSTITUTE = "institute"
# Words this long or longer also match with one letter wrong, missing, extra or two swapped.
# Shorter ones would collide with ordinary words ("placas" / "plazas").
TYPO_MIN_LENGTH = 7


class AgenciesError(ValueError):
    """The agencies file is wrong; the message names the entry."""


def fold(text: str) -> str:
    """Lower case, no accents (ñ → n), only letters and digits between single spaces."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold_accents(text.lower())).split())


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phone(_Model):
    number: str
    label: str


class Contact(_Model):
    website: str | None = None
    phones: tuple[Phone, ...] = ()
    note: str | None = None  # where to go when there is no single website, or besides it
    verify: bool  # true until an editor has confirmed the contact on the agency's own page

    @field_validator("website")
    @classmethod
    def _https(cls, website: str | None) -> str | None:
        if website is not None and not re.fullmatch(r"https://[\w.-]+(/[\w./-]*)?", website):
            raise ValueError(f"a website is an https:// address, not {website!r}")
        return website

    @model_validator(mode="after")
    def _somewhere(self) -> Contact:
        if not self.website and not self.note:
            raise ValueError("a contact needs a website or a note saying where to go")
        return self

    def text(self) -> str:
        """Where to go, as the end of "Puedes consultarlo en …"."""
        parts = [p for p in (self.website, self.note) if p]
        text = " ".join(parts)
        if self.phones:
            numbers = " o al ".join(f"{p.number} ({p.label})" for p in self.phones)
            text += f" o por teléfono al {numbers}"
        return text


class InContext(_Model):
    """A phrase that is the agency's only with one of `with_` somewhere in the question."""

    phrase: str
    with_: tuple[str, ...] = Field(alias="with", min_length=1)


class Agency(_Model):
    id: str = Field(pattern=r"^[a-z][a-z_]*$")
    name: str = Field(min_length=2)
    called: str = Field(min_length=2)  # in "Eso lo atiende {called}, no el Instituto"
    handles: str = Field(min_length=20)  # one or two sentences, es-MX, tú
    topics: tuple[str, ...] = Field(min_length=1)
    contact: Contact
    phrases: tuple[str, ...] = Field(min_length=1)
    in_context: tuple[InContext, ...] = ()
    # Its own pensions, leaves and clinics: the Instituto's topics do not keep a question naming it.
    shares_institute_topics: bool = False


class Institute(_Model):
    names: tuple[str, ...] = Field(min_length=1)
    topics: tuple[str, ...] = Field(min_length=1)
    shared: tuple[str, ...] = ()


class Boundary(_Model):
    note: str
    example: str
    goes_to: str


class Table(_Model):
    institute: Institute
    agencies: tuple[Agency, ...] = Field(min_length=1)
    boundaries: tuple[Boundary, ...] = ()
    not_typos: tuple[str, ...] = ()  # real words one letter away from a phrase's word

    @model_validator(mode="after")
    def _consistent(self) -> Table:
        ids = [a.id for a in self.agencies]
        for agency_id in ids:
            if ids.count(agency_id) > 1:
                raise ValueError(f"agency {agency_id!r} appears twice")
        owners: dict[str, str] = {}
        for owner, phrase in _all_phrases(self):
            folded = fold(phrase)
            if not folded:
                raise ValueError(f"{owner}: the phrase {phrase!r} has no letters")
            if folded in owners:
                raise ValueError(f"{owner}: the phrase {phrase!r} is also {owners[folded]}'s")
            owners[folded] = owner
        for boundary in self.boundaries:
            if boundary.goes_to != INSTITUTE and boundary.goes_to not in ids:
                raise ValueError(f"boundary {boundary.example!r}: unknown {boundary.goes_to!r}")
        return self

    def agency(self, agency_id: str) -> Agency:
        return next(a for a in self.agencies if a.id == agency_id)


def _all_phrases(table: Table) -> Iterable[tuple[str, str]]:
    for kind in ("names", "topics", "shared"):
        for phrase in getattr(table.institute, kind):
            yield f"institute {kind}", phrase
    for agency in table.agencies:
        for phrase in agency.phrases:
            yield f"agency {agency.id!r}", phrase
        for entry in agency.in_context:
            yield f"agency {agency.id!r}", entry.phrase


def parse(data: Any) -> Table:
    """The table, checked; an error names the agency (or the section) that is wrong."""
    if not isinstance(data, dict):
        raise AgenciesError("the agencies file is a mapping with institute, agencies, boundaries")
    for position, entry in enumerate(data.get("agencies") or []):
        try:
            Agency.model_validate(entry)
        except ValidationError as error:
            name = entry.get("id") if isinstance(entry, dict) else None
            label = f"agency {name!r}" if name else f"agency number {position + 1}"
            raise AgenciesError(f"{label}: {_first(error)}") from None
    try:
        return Table.model_validate(data)
    except ValidationError as error:
        raise AgenciesError(_first(error)) from None


def _first(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    message = problem["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def load(path: Path = FILE) -> Table:
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")))


# ------------------------------------------------------------------ matching

Kind = Literal["name", "topic", "shared", "agency"]


@dataclass(frozen=True)
class Found:
    """A phrase of the table found in a question."""

    owner: str  # an agency id, or INSTITUTE
    kind: Kind
    words: tuple[str, ...]


class Matcher:
    def __init__(self, table: Table) -> None:
        self.table = table
        self._phrases: dict[tuple[str, ...], Found] = {}
        self._context: dict[tuple[str, ...], frozenset[str]] = {}
        institute = table.institute
        kinds: tuple[tuple[Kind, tuple[str, ...]], ...] = (
            ("name", institute.names),
            ("topic", institute.topics),
            ("shared", institute.shared),
        )
        for kind, phrases in kinds:
            for phrase in phrases:
                self._add(INSTITUTE, kind, phrase)
        for agency in table.agencies:
            for phrase in agency.phrases:
                self._add(agency.id, "agency", phrase)
            for entry in agency.in_context:
                words = self._add(agency.id, "agency", entry.phrase)
                self._context[words] = frozenset(fold(w) for w in entry.with_)
        self._longest = max(len(words) for words in self._phrases)
        vocabulary = {w for words in self._phrases for w in words}
        vocabulary |= {w for context in self._context.values() for w in context}
        self._vocabulary = frozenset(vocabulary)
        self._typo_targets = sorted(w for w in vocabulary if len(w) >= TYPO_MIN_LENGTH)
        self._not_typos = frozenset(fold(w) for w in table.not_typos)
        self._canonical_cache: dict[str, str] = {}

    def lone_agency_words(self) -> frozenset[str]:
        """Words that alone, with no context, make a question an agency's."""
        return frozenset(
            words[0]
            for words, found in self._phrases.items()
            if len(words) == 1 and found.owner != INSTITUTE and words not in self._context
        )

    def _add(self, owner: str, kind: Kind, phrase: str) -> tuple[str, ...]:
        words = tuple(fold(phrase).split())
        self._phrases[words] = Found(owner, kind, words)
        return words

    def canonical(self, word: str) -> str:
        """The table's word a typed word stands for (itself when none is one letter away)."""
        if word in self._vocabulary or word in self._not_typos or len(word) < TYPO_MIN_LENGTH - 1:
            return word
        if word not in self._canonical_cache:
            close = (t for t in self._typo_targets if _one_edit(word, t))
            self._canonical_cache[word] = next(close, word)
        return self._canonical_cache[word]

    def find(self, question: str) -> list[Found]:
        """The table's phrases in the question, the longest first at each place."""
        words = [self.canonical(w) for w in fold(question).split()]
        present = set(words)
        found: list[Found] = []
        start = 0
        while start < len(words):
            for size in range(min(self._longest, len(words) - start), 0, -1):
                key = tuple(words[start : start + size])
                phrase = self._phrases.get(key)
                if phrase is None:
                    continue
                if key in self._context and not self._context[key] & present:
                    continue
                found.append(phrase)
                start += size
                break
            else:
                start += 1
        return found

    def match(self, question: str) -> Agency | None:
        """The agency the question is for, or None: the Instituto's or nobody's (the rule is
        written at the top of agencies.yml)."""
        found = self.find(question)
        agencies = [f for f in found if f.owner != INSTITUTE]
        if not agencies:
            return None
        institute_named = any(f.kind == "name" for f in found)
        institute_topic = any(f.kind == "topic" for f in found)
        if institute_named and (institute_topic or any(f.kind == "shared" for f in found)):
            return None
        if institute_topic:
            agencies = [f for f in agencies if self.table.agency(f.owner).shares_institute_topics]
            if not agencies:
                return None
        weight: dict[str, int] = {}
        for f in agencies:  # dicts keep the first named first: max() breaks ties with it
            weight[f.owner] = weight.get(f.owner, 0) + len(f.words)
        return self.table.agency(max(weight, key=weight.__getitem__))


def _one_edit(word: str, target: str) -> bool:
    """One letter wrong, missing or extra, or two neighbours swapped."""
    if abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        diff = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and word[diff[0]] == target[diff[1]]
            and word[diff[1]] == target[diff[0]]
        )
    short, long_ = sorted((word, target), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


@cache
def matcher() -> Matcher:
    return Matcher(load())


def match(question: str) -> Agency | None:
    """The agency of agencies.yml a question is for, or None (the Instituto's, or nobody's)."""
    return matcher().match(question)
