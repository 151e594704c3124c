"""The emergency safety layer (triage/emergencies.py) on the issue's own examples, the labelled
phrase set's dev half, and its combination with the intent classifier."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.protocol import EmergencyKind
from triage.emergencies import LINEA_DE_LA_VIDA, clauses, detect, judge, replies

PHRASES = Path(__file__).resolve().parents[1] / "emergency" / "phrases.tsv"


def phrase_set(split: str) -> list[tuple[str, str]]:
    rows = [
        line.rstrip("\n").split("\t")
        for line in PHRASES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ][1:]
    return [(kind, text) for kind, part, text in rows if part == split]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("tengo la saturación en 82", "respiracion"),
        ("saturación 85", "respiracion"),
        ("oxigenación de 84", "respiracion"),
        ("no lo puedo despertar", "inconsciente"),
        ("ya tomé muchas pastillas", "suicidio"),
        ("estoy en la azotea y voy a saltar", "suicidio"),
        ("tengo covid y me estoy poniendo azul", "respiracion"),
        ("me kiero morir", "suicidio"),
        ("ya no aguanto", "suicidio"),
        ("me falta mucho el aire", "respiracion"),
        ("tengo los labios morados", "respiracion"),
        ("ME DUELE EL PEXO", "infarto"),  # upper case, chat spelling
        ("no puedo resppirar", "respiracion"),  # a typo
        ("el oximetro marca ochenta y cinco", "respiracion"),  # a number in words
    ],
)
def test_the_issues_emergencies_are_detected(text: str, kind: str) -> None:
    assert detect(text).kind == EmergencyKind(kind)


@pytest.mark.parametrize(
    "text",
    [
        "me muero de risa con tus respuestas",
        "ya no quiero esperar, mejor otro día",
        "el pecho de pollo me cayó mal",
        "¿qué es el código infarto?",
        "el trámite me está matando",
        "no tengo dolor de pecho, solo tos",  # negated
        "mi saturación está en 96, ¿es normal?",  # a normal reading
        "me falta un poco el aire cuando subo escaleras",  # mild: the triage form's question
        "tuve un infarto hace dos años, ¿puedo pedir pensión?",  # past, for paperwork
    ],
)
def test_ordinary_messages_are_not_emergencies(text: str) -> None:
    verdict = detect(text)
    assert verdict.kind is None


def test_figures_of_speech_and_topic_questions_are_dismissed_not_just_missed() -> None:
    assert detect("me muero de risa").dismissed
    assert detect("¿cuáles son los síntomas de un infarto?").dismissed
    assert not detect("quiero cambiar mi clínica").dismissed


def test_the_dev_half_of_the_phrase_set_is_all_caught_with_few_false_alarms() -> None:
    emergencies = [(k, t) for k, t in phrase_set("dev") if k != "-"]
    ordinary = [t for k, t in phrase_set("dev") if k == "-"]
    assert len(emergencies) >= 80 and len(ordinary) >= 80
    wrong = [(k, t) for k, t in emergencies if detect(t).kind != EmergencyKind(k)]
    assert wrong == []
    false_alarms = [t for t in ordinary if detect(t).kind is not None]
    assert len(false_alarms) <= 0.05 * len(ordinary), false_alarms


def test_the_classifier_counts_where_the_layer_is_unsure_but_not_over_a_dismissal() -> None:
    # No pattern of the layer, emergency words, a confident classifier: an emergency.
    assert judge("siento que me voy a morir", "emergency_heart_attack", 0.7) == "infarto"
    assert judge("siento que me voy a morir", "emergency_heart_attack", 0.4) is None
    # The issue's false alarms at 0.95: a figure of speech and wanting to leave a queue.
    assert judge("me muero de risa con tus respuestas", "emergency_suicide", 0.95) is None
    assert judge("ya no quiero esperar, mejor otro día", "emergency_suicide", 0.95) is None
    # Without an emergency's words only a very confident classifier counts.
    assert judge("ya tomé la decisión, perdónenme", "emergency_suicide", 0.9) == "suicidio"
    assert judge("ya tomé la decisión, perdónenme", "emergency_suicide", 0.7) is None
    # The layer's own emergency wins over any classifier.
    assert judge("no puedo respirar", "greet", 0.99) == "respiracion"


def test_normalization() -> None:
    assert clauses("¡¡AYUDAAAA!! Ké hago, me duele el pecho") == [
        "ayuda",
        "que hago",
        "me duele el pecho",
    ]


def test_the_first_reply_says_911_and_for_suicidal_talk_the_crisis_line() -> None:
    for kind in EmergencyKind:
        [reply] = replies(kind)
        assert "911" in reply["text"] and reply["alert"] == kind
    assert LINEA_DE_LA_VIDA in replies(EmergencyKind.SUICIDIO)[0]["text"]
    assert "24 horas" in replies(EmergencyKind.SUICIDIO)[0]["text"]
