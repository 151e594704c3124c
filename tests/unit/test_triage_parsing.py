"""Free-text triage answers read into the protocol's codes and numbers (triage/parsing.py)."""

from __future__ import annotations

import pytest

from triage import engine, parsing

CODES = engine.load().codes


def read(field: str, text: str) -> list[str] | None:
    return parsing.list_answer(field, text, list(CODES[field]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("me falta mucho el aire", ["severe_breathing_difficulty"]),
        ("ME FALTA MUCHISIMO EL AIRE", ["severe_breathing_difficulty"]),
        ("no puedo respirar bien", ["severe_breathing_difficulty"]),
        ("me estoy ahogando", ["severe_breathing_difficulty"]),
        ("tengo los labios morados", ["bluish_lips_or_face"]),
        ("mi papá tiene los labios azulados", ["bluish_lips_or_face"]),
        ("me estoy poniendo azul", ["bluish_lips_or_face"]),
        ("mi oxigenación está en 87", ["low_oxygen_saturation"]),
        ("saturación 85%", ["low_oxygen_saturation"]),
        ("oxigenacion de 84", ["low_oxygen_saturation"]),
        ("el oximetro marca 88 %", ["low_oxygen_saturation"]),
        ("me duele el pecho y no se quita", ["chest_pain"]),
        ("siento presion en el pecho", ["chest_pain"]),
        ("mi mamá está muy confundida", ["new_confusion"]),
        ("no lo puedo despertar", ["hard_to_wake"]),
        ("esta muy somnolienta", ["hard_to_wake"]),
        ("dolor de pecho y labios morados", ["chest_pain", "bluish_lips_or_face"]),
        ("2", ["chest_pain"]),
        ("1 y 5", ["severe_breathing_difficulty", "bluish_lips_or_face"]),
        ('/covid_symptoms{"triage_code": "hard_to_wake"}', ["hard_to_wake"]),
        ('/covid_symptoms{"triage_code": "none"}', ["none"]),
        ("Ninguno de estos", []),
        ("ninguna", []),
        ("no", []),
        ("no tengo ninguna de esas", []),
        ("7", []),  # the button after the last sign: "Ninguno de estos"
    ],
)
def test_emergency_signs_in_many_phrasings(text: str, expected: list[str]) -> None:
    assert read("emergency_signs", text) == expected


@pytest.mark.parametrize("text", ["saturo 92", "mi oxigenación está en 95", "no sé", "hola", "99"])
def test_a_good_reading_or_an_unclear_answer_is_not_an_answer_about_the_signs(text: str) -> None:
    assert read("emergency_signs", text) is None


def test_an_oximeter_reading_is_read_as_a_number() -> None:
    assert parsing.saturation("saturo 92") == 92
    assert parsing.saturation("mi oxigenación está en 87 %") == 87
    assert parsing.saturation("spo2: 89") == 89
    assert parsing.saturation("tengo 45 años") is None
    assert parsing.emergency_signs("saturo 92") == []
    assert parsing.emergency_signs("saturo 89") == ["low_oxygen_saturation"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tengo fiebre, tos y me duele la cabeza", ["fever", "cough", "headache"]),
        ("Tengo fiebre, tos y me duele la cabeza.", ["fever", "cough", "headache"]),
        ("fievre y dolr de cabesa", ["fever", "headache"]),  # typos
        ("calentura, tos seca", ["fever", "cough"]),
        ("me siento cortado y con escurrimiento", ["muscle_pain", "runny_nose"]),
        ("perdí el olfato y el gusto", ["loss_of_taste_or_smell"]),
        ("no huelo nada y tengo diarrea", ["loss_of_taste_or_smell", "diarrhea"]),
        ("me falta un poco el aire al caminar", ["mild_breathing_difficulty"]),
        ("dolor de garganta, cansancio, vomito", ["sore_throat", "fatigue", "nausea_or_vomiting"]),
        ("tos", ["cough"]),
        ("1, 2 y 7", ["fever", "cough", "headache"]),
        ("1,2,7", ["fever", "cough", "headache"]),
        ('/covid_symptoms{"triage_code": "fever"}', ["fever"]),
        ("ninguno", []),
        ("ningún síntoma", []),
        ("nada", []),
        ("12", []),  # the "Ninguno" button on a numbered list
    ],
)
def test_several_symptoms_at_once(text: str, expected: list[str]) -> None:
    assert read("symptoms", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no tengo fiebre", []),
        ("no tengo fiebre ni tos", []),
        ("sin fiebre", []),
        ("no tengo fiebre pero si tos", ["cough"]),
        ("tengo tos pero no fiebre", ["cough"]),
        ("sin fiebre, pero con mucha tos y me siento cansado", ["cough", "fatigue"]),
        ("no me falta el aire, solo me duele la garganta", ["sore_throat"]),
    ],
)
def test_a_negated_symptom_does_not_count(text: str, expected: list[str]) -> None:
    assert read("symptoms", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("soy diabético e hipertenso", ["diabetes", "hypertension"]),
        ("diabetes y presion alta", ["diabetes", "hypertension"]),
        ("estoy embarazada y fumo", ["pregnancy", "smoking"]),
        ("tengo epoc y problemas del riñón", ["chronic_lung_disease", "chronic_kidney_disease"]),
        ("tengo VIH", ["immunosuppression"]),
        ("me dan quimioterapia por un cancer", ["immunosuppression", "cancer"]),
        ("obesidad", ["obesity"]),
        ("tuve un infarto hace años", ["heart_disease"]),
        ("ninguna", []),
        ("no tengo diabetes", []),
        ("no, ninguna enfermedad", []),
    ],
)
def test_risk_factors(text: str, expected: list[str]) -> None:
    assert read("risk_factors", text) == expected


def test_the_rest_of_an_answer_that_names_no_option_is_not_understood() -> None:
    assert read("symptoms", "quiero saber de mi pensión") is None
    assert read("risk_factors", "") is None
    assert read("symptoms", "1, 40") is None  # a number off the list


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45", 45),
        ("tengo 45", 45),
        ("45 años", 45),
        ("Tengo 45 años.", 45),
        ("mi mamá tiene 70", 70),
        ("mi mama tiene setenta", 70),
        ("cuarenta y cinco", 45),
        ("un año y medio", 1),
        ("año y medio", None),
        ("mi bebé tiene 8 meses", 0),
        ("18 meses", 1),
        ("recién nacido", 0),
        ("ciento dos", 102),
        ("200", None),
        ("no sé", None),
    ],
)
def test_age_in_whole_years(text: str, expected: int | None) -> None:
    assert parsing.age(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("desde hace 3 días", 3),
        ("tres dias", 3),
        ("una semana", 7),
        ("hace como dos semanas", 14),
        ("desde ayer", 1),
        ("desde antier", 2),
        ("hoy", 0),
        ("empezó hoy en la mañana", 0),
        ("un mes", 30),
        ("quién sabe", None),
    ],
)
def test_symptom_days(text: str, expected: int | None) -> None:
    assert parsing.symptom_days(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sí", "yes"),
        ("si", "yes"),
        ("mi esposo dio positivo", "yes"),
        ("creo que sí", "yes"),
        ("no", "no"),
        ("no, con nadie", "no"),
        ("no sé", "unknown"),
        ("no estoy segura", "unknown"),
        ("tal vez", "unknown"),
        ('/covid_symptoms{"triage_code": "unknown"}', "unknown"),
        ("mañana", None),
    ],
)
def test_exposure(text: str, expected: str | None) -> None:
    assert parsing.exposure(text) == expected


def test_confirmation_and_the_end_of_picking() -> None:
    assert parsing.confirmation("Sí, es correcto") is True
    assert parsing.confirmation("Corregir") is False
    assert parsing.confirmation("no, está mal") is False
    assert parsing.confirmation("mmm") is None
    assert parsing.says_done("es todo")
    assert parsing.says_done("nada más")
    assert not parsing.says_done("fiebre")


def test_every_synonym_list_names_codes_of_the_protocol() -> None:
    for field, synonyms in parsing.SYNONYMS.items():
        assert set(synonyms) == set(CODES[field]), field
