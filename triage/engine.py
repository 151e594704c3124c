"""The triage engine: a pure function from a protocol and checked answers to an outcome.

Nothing here knows of Rasa, channels or the database. The protocol is data (a YAML file under
`protocols/`); its rules' conditions are a small vocabulary read from that file:

* `{any_of: FIELD}` / `{none_of: FIELD}`: the list FIELD has some / no code;
* `{has: {FIELD: CODE}}`: the list FIELD contains CODE;
* `{at_least: {FIELD: N}}` / `{below: {FIELD: N}}`: the number FIELD is ≥ N / < N;
* `{equals: {FIELD: VALUE}}`;
* `{all: [CONDITION, …]}` / `{any: [CONDITION, …]}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

PROTOCOLS = Path(__file__).resolve().parent / "protocols"
DEFAULT_VERSION = "covid-2020.1"


class Level(StrEnum):
    VERDE = "verde"
    AMARILLO = "amarillo"
    ROJO = "rojo"


SEVERITY = {Level.VERDE: 1, Level.AMARILLO: 2, Level.ROJO: 3}
LIST_FIELDS = ("emergency_signs", "symptoms", "risk_factors")
NUMBER_FIELDS = ("age", "symptom_days")
CHOICE_FIELDS = ("exposure",)
OPERATORS = ("any_of", "none_of", "has", "at_least", "below", "equals", "all", "any")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    when: dict[str, Any]
    level: Level
    disposition: str


class Protocol(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    codes: dict[str, dict[str, str]]  # field → code → what it means, in Spanish
    rules: list[Rule]
    dispositions: dict[str, str]  # disposition → its Spanish message

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        for field in (*LIST_FIELDS, *CHOICE_FIELDS):
            if field not in self.codes:
                raise ValueError(f"the protocol has no codes for {field!r}")
        for rule in self.rules:
            if rule.disposition not in self.dispositions:
                raise ValueError(f"{rule.id}: unknown disposition {rule.disposition!r}")
            _check_condition(self, rule.id, rule.when)
        return self


def _check_condition(protocol: Protocol, rule: str, condition: dict[str, Any]) -> None:
    """A condition the engine can evaluate, naming only fields and codes the protocol has."""
    if len(condition) != 1 or next(iter(condition)) not in OPERATORS:
        raise ValueError(f"{rule}: a condition is one of {', '.join(OPERATORS)}: {condition}")
    [(operator, argument)] = condition.items()
    if operator in ("all", "any"):
        for inner in argument:
            _check_condition(protocol, rule, inner)
    elif operator in ("any_of", "none_of"):
        if argument not in LIST_FIELDS:
            raise ValueError(f"{rule}: {operator} needs a list field, not {argument!r}")
    else:
        [(field, value)] = argument.items()
        if operator == "has" and value not in protocol.codes.get(field, {}):
            raise ValueError(f"{rule}: {field!r} has no code {value!r}")
        if operator in ("at_least", "below") and field not in NUMBER_FIELDS:
            raise ValueError(f"{rule}: {operator} needs a number field, not {field!r}")


@cache
def load(version: str = DEFAULT_VERSION) -> Protocol:
    """A protocol by its version (its file under `protocols/`), checked."""
    path = PROTOCOLS / f"{version}.yml"
    return Protocol.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Outcome:
    level: Level
    disposition: str
    rules: tuple[str, ...]  # every rule that fired, in the protocol's order
    protocol_version: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": str(self.level),
            "disposition": self.disposition,
            "rules": list(self.rules),
            "protocol_version": self.protocol_version,
        }


def holds(condition: dict[str, Any], answers: dict[str, Any]) -> bool:
    [(operator, argument)] = condition.items()
    if operator == "all":
        return all(holds(inner, answers) for inner in argument)
    if operator == "any":
        return any(holds(inner, answers) for inner in argument)
    if operator == "any_of":
        return bool(answers[argument])
    if operator == "none_of":
        return not answers[argument]
    [(field, value)] = argument.items()
    if operator == "has":
        return value in answers[field]
    if operator == "at_least":
        return answers[field] >= value
    if operator == "below":
        return answers[field] < value
    return answers[field] == value  # equals


def assess(protocol: Protocol, answers: dict[str, Any]) -> Outcome:
    """The outcome of checked answers (`triage.answers.check`): every rule that holds fires; the
    level and disposition are those of the most severe fired rule, the first within a level."""
    fired = [rule for rule in protocol.rules if holds(rule.when, answers)]
    if not fired:  # the protocol's last rules cover every case; a gap is the protocol's bug
        raise ValueError(f"no rule of {protocol.version} applies to {answers}")
    worst = max(fired, key=lambda rule: SEVERITY[rule.level])  # max keeps the first of equals
    return Outcome(
        level=worst.level,
        disposition=worst.disposition,
        rules=tuple(rule.id for rule in fired),
        protocol_version=protocol.version,
    )
