"""The COVID-19 protocol covid-2020.1 (../shared/reference/DOMAIN.md) as the engine applies it:
every rule and its boundaries, the answers it refuses, a table of vignettes, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from core.settings import PROJECT_ROOT
from triage import engine
from triage.answers import InvalidAnswers, check

PROTOCOL = engine.load()


def answers(**given: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "age": 35,
        "emergency_signs": [],
        "symptoms": [],
        "symptom_days": 0,
        "risk_factors": [],
        "exposure": "no",
    }
    return base | given


def outcome(**given: Any) -> engine.Outcome:
    return engine.assess(PROTOCOL, check(PROTOCOL, answers(**given)))


def test_the_protocol_file_is_the_version_of_the_domain_document() -> None:
    assert PROTOCOL.version == "covid-2020.1"
    assert [r.id for r in PROTOCOL.rules] == [f"R{n}" for n in range(1, 9)]
    assert set(PROTOCOL.codes["emergency_signs"]) == {
        "severe_breathing_difficulty", "chest_pain", "new_confusion", "hard_to_wake",
        "bluish_lips_or_face", "low_oxygen_saturation",
    }  # fmt: skip
    assert len(PROTOCOL.codes["symptoms"]) == 11 and len(PROTOCOL.codes["risk_factors"]) == 10


@pytest.mark.parametrize("sign", list(PROTOCOL.codes["emergency_signs"]))
def test_r1_any_emergency_sign_is_red_whatever_else(sign: str) -> None:
    result = outcome(emergency_signs=[sign])
    assert (result.level, result.disposition, result.rules) == ("rojo", "emergency", ("R1", "R8"))
    # Even with every reason for yellow, red wins and names every rule that fired.
    worst = outcome(emergency_signs=[sign], symptoms=["mild_breathing_difficulty", "fever"],
                    age=70, symptom_days=9, risk_factors=["diabetes"])  # fmt: skip
    assert worst.level == "rojo" and worst.rules == ("R1", "R2", "R3", "R5", "R6")


def test_r2_mild_breathing_difficulty_is_yellow_at_any_age() -> None:
    assert outcome(symptoms=["mild_breathing_difficulty"], age=25).rules == ("R2", "R6")
    assert outcome(symptoms=["mild_breathing_difficulty"]).level == "amarillo"


@pytest.mark.parametrize(("age", "level"), [(59, "verde"), (60, "amarillo"), (61, "amarillo")])
def test_r3_age_boundary_with_a_symptom(age: int, level: str) -> None:
    assert outcome(symptoms=["cough"], age=age).level == level


@pytest.mark.parametrize("factor", list(PROTOCOL.codes["risk_factors"]))
def test_r3_any_risk_factor_with_a_symptom_is_yellow(factor: str) -> None:
    result = outcome(symptoms=["headache"], risk_factors=[factor])
    assert (result.level, result.rules) == ("amarillo", ("R3", "R6"))


def test_r3_needs_a_symptom() -> None:
    assert outcome(age=80, risk_factors=["diabetes", "obesity"]).rules == ("R8",)


@pytest.mark.parametrize(("age", "level"), [(0, "amarillo"), (1, "amarillo"), (2, "verde")])
def test_r4_age_boundary_under_two_with_a_symptom(age: int, level: str) -> None:
    assert outcome(symptoms=["runny_nose"], age=age).level == level


@pytest.mark.parametrize(("days", "level"), [(6, "verde"), (7, "amarillo"), (12, "amarillo")])
def test_r5_fever_for_seven_days_or_more(days: int, level: str) -> None:
    assert outcome(symptoms=["fever"], symptom_days=days).level == level


def test_r5_needs_fever_not_any_symptom() -> None:
    assert outcome(symptoms=["cough"], symptom_days=10).rules == ("R6",)


@pytest.mark.parametrize(
    ("exposure", "rules", "disposition"),
    [("yes", ("R7", "R8"), "quarantine"), ("no", ("R8",), "prevention"),
     ("unknown", ("R8",), "prevention")],
)  # fmt: skip
def test_r7_r8_without_symptoms_exposure_decides(
    exposure: str, rules: tuple[str, ...], disposition: str
) -> None:
    result = outcome(exposure=exposure)
    assert (result.level, result.rules, result.disposition) == ("verde", rules, disposition)


def test_r6_a_symptom_is_home_care_whatever_the_exposure() -> None:
    for exposure in ("yes", "no", "unknown"):
        assert outcome(symptoms=["sore_throat"], exposure=exposure).disposition == "home_care"


# (age, emergency signs, symptoms, days, risk factors, exposure) → level
VIGNETTES = [
    (34, [], [], 0, [], "no", "verde"),
    (34, [], [], 0, [], "yes", "verde"),
    (34, [], [], 0, [], "unknown", "verde"),
    (72, [], [], 0, ["hypertension"], "yes", "verde"),
    (1, [], [], 0, [], "yes", "verde"),
    (28, [], ["cough"], 2, [], "no", "verde"),
    (28, [], ["fever", "cough", "headache"], 3, [], "yes", "verde"),
    (45, [], ["loss_of_taste_or_smell"], 5, [], "unknown", "verde"),
    (59, [], ["fever", "muscle_pain"], 6, [], "yes", "verde"),
    (2, [], ["runny_nose", "fever"], 1, [], "no", "verde"),
    (17, [], ["sore_throat", "fatigue"], 4, [], "no", "verde"),
    (33, [], ["diarrhea", "nausea_or_vomiting"], 2, [], "unknown", "verde"),
    (40, [], ["fever"], 6, [], "no", "verde"),
    (40, [], ["cough"], 14, [], "no", "verde"),
    (60, [], ["cough"], 1, [], "no", "amarillo"),
    (85, [], ["fatigue"], 3, [], "unknown", "amarillo"),
    (30, [], ["cough"], 2, ["pregnancy"], "yes", "amarillo"),
    (30, [], ["headache"], 1, ["smoking"], "no", "amarillo"),
    (50, [], ["fever"], 3, ["diabetes", "obesity"], "no", "amarillo"),
    (22, [], ["mild_breathing_difficulty"], 1, [], "no", "amarillo"),
    (22, [], ["mild_breathing_difficulty", "cough"], 5, [], "yes", "amarillo"),
    (1, [], ["fever"], 1, [], "no", "amarillo"),
    (0, [], ["cough", "runny_nose"], 2, [], "unknown", "amarillo"),
    (35, [], ["fever"], 7, [], "no", "amarillo"),
    (35, [], ["fever", "cough"], 10, [], "yes", "amarillo"),
    (44, [], ["cough"], 3, ["immunosuppression"], "no", "amarillo"),
    (44, [], ["sore_throat"], 2, ["chronic_kidney_disease"], "no", "amarillo"),
    (38, [], ["fatigue"], 9, ["cancer"], "unknown", "amarillo"),
    (65, [], ["mild_breathing_difficulty", "fever"], 8, ["heart_disease"], "yes", "amarillo"),
    (29, [], ["headache"], 2, ["chronic_lung_disease"], "no", "amarillo"),
    (30, ["severe_breathing_difficulty"], ["cough"], 4, [], "no", "rojo"),
    (30, ["chest_pain"], [], 0, [], "no", "rojo"),
    (75, ["new_confusion"], ["fever"], 3, ["diabetes"], "yes", "rojo"),
    (80, ["hard_to_wake"], [], 0, [], "unknown", "rojo"),
    (1, ["bluish_lips_or_face"], ["cough"], 2, [], "no", "rojo"),
    (52, ["low_oxygen_saturation"], ["fever", "cough"], 6, ["obesity"], "yes", "rojo"),
    (25, ["low_oxygen_saturation"], [], 0, [], "no", "rojo"),
    (40, ["chest_pain", "severe_breathing_difficulty"], ["mild_breathing_difficulty"], 2, [],
     "no", "rojo"),
    (19, ["new_confusion"], ["headache"], 1, [], "no", "rojo"),
    (66, ["severe_breathing_difficulty"], ["fever"], 10, ["hypertension"], "yes", "rojo"),
    (3, [], ["fever", "diarrhea"], 2, [], "no", "verde"),
    (61, [], [], 0, [], "no", "verde"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("age", "signs", "symptoms", "days", "factors", "exposure", "level"), VIGNETTES
)
def test_vignettes(
    age: int,
    signs: list[str],
    symptoms: list[str],
    days: int,
    factors: list[str],
    exposure: str,
    level: str,
) -> None:
    result = outcome(age=age, emergency_signs=signs, symptoms=symptoms, symptom_days=days,
                     risk_factors=factors, exposure=exposure)  # fmt: skip
    assert result.level == level
    assert result.protocol_version == "covid-2020.1"


def test_there_are_at_least_forty_vignettes_of_every_level() -> None:
    assert len(VIGNETTES) >= 40
    assert {v[-1] for v in VIGNETTES} == {"verde", "amarillo", "rojo"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"age": "35"}, "age"),
        ({"age": True}, "age"),
        ({"age": 3.5}, "age"),
        ({"age": -1}, "age"),
        ({"symptom_days": None}, "symptom_days"),
        ({"symptoms": "fever"}, "symptoms"),
        ({"symptoms": ["fiebre"]}, "symptoms"),
        ({"emergency_signs": ["chest_pain", 3]}, "emergency_signs"),
        ({"risk_factors": ["asthma"]}, "risk_factors"),
        ({"exposure": "tal vez"}, "exposure"),
        ({"exposure": True}, "exposure"),
        ({"temperature": 39}, "temperature"),
    ],
)
def test_bad_answers_are_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidAnswers) as refused:
        check(PROTOCOL, answers(**change))
    assert refused.value.field == field


def test_a_missing_field_is_named() -> None:
    given = answers()
    del given["exposure"]
    with pytest.raises(InvalidAnswers, match="«exposure»: falta este campo"):
        check(PROTOCOL, given)


def test_a_repeated_code_counts_once() -> None:
    assert check(PROTOCOL, answers(symptoms=["cough", "cough"]))["symptoms"] == ["cough"]


def test_a_protocol_naming_an_unknown_code_or_disposition_is_refused() -> None:
    data = PROTOCOL.model_dump(mode="json")
    data["rules"][1]["when"] = {"has": {"symptoms": "fiebre"}}
    with pytest.raises(ValueError, match="R2"):
        engine.Protocol.model_validate(data)
    data = PROTOCOL.model_dump(mode="json")
    data["rules"][0]["disposition"] = "hospital"
    with pytest.raises(ValueError, match="hospital"):
        engine.Protocol.model_validate(data)


def run_cli(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ventanilla.cli", "triage", "assess"],
        input=text,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )


def test_the_cli_prints_the_outcome_as_json() -> None:
    done = run_cli(json.dumps(answers(symptoms=["fever"], symptom_days=7)))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "level": "amarillo",
        "disposition": "remote_medical_orientation",
        "rules": ["R5", "R6"],
        "protocol_version": "covid-2020.1",
    }


def test_the_cli_exits_2_naming_the_field() -> None:
    done = run_cli(json.dumps(answers(risk_factors=["asthma"])))
    assert done.returncode == 2 and "«risk_factors»" in done.stderr and done.stdout == ""
    assert run_cli("{no es json").returncode == 2
