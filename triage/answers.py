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


# When an emergency sign stops the form, the questions after it are not asked. The engine needs
# every field, so the unasked ones get these values: no symptoms, no risk factors, 0 days, exposure
# unknown, and age 0. With no symptoms, age cannot make a rule fire (R3/R4 need a symptom), so the
# outcome is R1 (rojo) plus R8 (no symptom), which is what the stored rules show.
UNASKED: dict[str, Any] = {
    "age": 0,
    "emergency_signs": [],
    "symptoms": [],
    "symptom_days": 0,
    "risk_factors": [],
    "exposure": "unknown",
}


def complete(partial: dict[str, Any]) -> dict[str, Any]:
    """The answers with the unasked fields (None or absent) given their neutral values."""
    return {f: UNASKED[f] if partial.get(f) is None else partial[f] for f in FIELDS}


def summary(protocol: Protocol, answers: dict[str, Any]) -> str:
    """The answers in Spanish, one per line, with the protocol's words: the readback before the
    result and the doctor's first read of a handoff. Fields not answered are left out."""
    meanings = protocol.codes

    def listed(field: str) -> str:
        return ", ".join(meanings[field].get(c, c) for c in answers[field]) or "Ninguno"

    lines = []
    if answers.get("emergency_signs"):
        lines.append(f"Señales de alarma: {listed('emergency_signs')}")
    if answers.get("age") is not None:
        lines.append(f"Edad: {answers['age']} años")
    if answers.get("symptoms") is not None:
        lines.append(f"Síntomas: {listed('symptoms')}")
    if answers.get("symptoms") and answers.get("symptom_days") is not None:
        lines.append(f"Días con síntomas: {answers['symptom_days']}")
    if answers.get("risk_factors") is not None:
        lines.append(f"Enfermedades o condiciones: {listed('risk_factors')}")
    if answers.get("exposure") is not None:
        exposure = meanings["exposure"].get(answers["exposure"], answers["exposure"])
        lines.append(f"Contacto con un caso confirmado: {exposure}")
    return "\n".join(lines)
