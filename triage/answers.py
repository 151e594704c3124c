"""Checking an answers object against a protocol before it is assessed.

Every field is required; a list holds known codes of its field (each once); numbers are whole and
not negative; `exposure` is one of its codes. A problem is an `InvalidAnswers` naming the field.
"""

from __future__ import annotations

from typing import Any

from triage.engine import CHOICE_FIELDS, LIST_FIELDS, NUMBER_FIELDS, Protocol

FIELDS = ("age", "emergency_signs", "symptoms", "symptom_days", "risk_factors", "exposure")
MAX_AGE = 130


class InvalidAnswers(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"«{field}»: {message}")
        self.field = field
        self.message = message


def check(protocol: Protocol, raw: Any) -> dict[str, Any]:
    """The answers, normalized (lists without repeats, in the order given), or InvalidAnswers."""
    if not isinstance(raw, dict):
        raise InvalidAnswers("(respuestas)", "se esperaba un objeto JSON con las respuestas")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise InvalidAnswers(unknown[0], "campo desconocido")
    answers: dict[str, Any] = {}
    for field in FIELDS:
        if field not in raw:
            raise InvalidAnswers(field, "falta este campo")
        value = raw[field]
        if field in NUMBER_FIELDS:
            # bool is an int in Python; "true" is not an age.
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidAnswers(field, f"debe ser un número entero, no {value!r}")
            if not 0 <= value <= (MAX_AGE if field == "age" else 365):
                raise InvalidAnswers(field, f"fuera de rango: {value}")
        elif field in LIST_FIELDS:
            if not isinstance(value, list):
                raise InvalidAnswers(field, f"debe ser una lista de códigos, no {value!r}")
            known = protocol.codes[field]
            for code in value:
                if not isinstance(code, str) or code not in known:
                    raise InvalidAnswers(
                        field, f"código desconocido {code!r}; códigos: {', '.join(known)}"
                    )
            value = list(dict.fromkeys(value))
        elif field in CHOICE_FIELDS:
            known = protocol.codes[field]
            if not isinstance(value, str) or value not in known:
                raise InvalidAnswers(
                    field, f"código desconocido {value!r}; códigos: {', '.join(known)}"
                )
        answers[field] = value
    return answers
