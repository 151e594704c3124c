"""The MTOD -> Rasa NLU YAML converter of `ventanilla bench nlu` (fast: no Rasa, no training)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ventanilla.bench.nlu import (
    RASA_ENTITY_REGEX,
    Example,
    clean_text,
    dump_nlu_yaml,
    parse_nlu_document,
    rasa_intent_name,
    read_mtod_tsv,
    read_rasa_nlu,
    score,
    split_validation,
    write_nlu_yaml,
)

VALID_INTENT = r"^[0-9A-Za-z_-]+$"


@pytest.mark.parametrize(
    ("mtod", "rasa"),
    [
        ("weather/find", "weather__find"),
        ("alarm/time_left_on_alarm", "alarm__time_left_on_alarm"),
        ("weather/checkSunrise", "weather__checkSunrise"),
        ("  reminder/set_reminder ", "reminder__set_reminder"),
        ("greet", "greet"),
        ("a b/c.d", "a_b__c_d"),
        ("clima/pronóstico", "clima__pron_stico"),
    ],
)
def test_rasa_intent_name(mtod: str, rasa: str) -> None:
    assert rasa_intent_name(mtod) == rasa
    assert "/" not in rasa  # '/' marks retrieval intents in Rasa


def test_rasa_intent_name_keeps_labels_apart() -> None:
    labels = ["alarm/set_alarm", "alarm/show_alarms", "weather/checkSunset", "weather/find"]
    assert len({rasa_intent_name(x) for x in labels}) == len(labels)


@pytest.mark.parametrize("bad", ["", "   ", "/", "///"])
def test_rasa_intent_name_rejects_empty(bad: str) -> None:
    with pytest.raises(ValueError):
        rasa_intent_name(bad)


TRICKY = [
    "yes",
    "no",
    "null",
    "~",
    "0o17",
    "1e3",
    "12:30",
    "2024-01-01",
    "- empieza con guion",
    "# no es comentario",
    "clave: valor",
    "@usuario",
    "&ancla *alias !etiqueta %TAG |barra >mayor",
    "\"comillas\" y 'apóstrofos'",
    "¿Qué tan frío será esta noche?",
    "enseñar mis alarmas del próximo mês",
    "Cancelar mi alarma(s) del sábado",
    '{"entity": "x"}',
    "texto con\\barra invertida",
    "emoji ⏰ y ñ",
]


def _rasa_read(text: str) -> list[Example]:
    """Read YAML text like Rasa 3.6 does (ruamel, YAML 1.2, pure safe loader)."""
    from ruamel.yaml import YAML

    loader = YAML(typ="safe", pure=True)
    loader.version = (1, 2)
    return parse_nlu_document(loader.load(text))


def test_yaml_round_trip_of_tricky_utterances() -> None:
    examples = [Example(clean_text(t), "test__tricky") for t in TRICKY]
    text, duplicates = dump_nlu_yaml(examples)
    assert duplicates == 0
    # Read back as YAML 1.1 (PyYAML) and as YAML 1.2 (ruamel, what Rasa uses): same strings.
    assert parse_nlu_document(yaml.safe_load(text)) == examples
    pytest.importorskip("ruamel.yaml")
    assert _rasa_read(text) == examples
    # Every example is a string scalar, never a number, bool, null or date.
    for item in yaml.safe_load(text)["nlu"]:
        assert all(isinstance(e["text"], str) for e in item["examples"])


def test_yaml_document_has_rasa_shape() -> None:
    text, _ = dump_nlu_yaml([Example("hola", "b__x"), Example("adiós", "a__y")])
    doc = yaml.safe_load(text)
    assert doc["version"] == "3.1"
    assert [i["intent"] for i in doc["nlu"]] == ["a__y", "b__x"]  # sorted
    assert doc["nlu"][0]["examples"] == [{"text": "adiós"}]
    assert "adiós" in text  # written as UTF-8, not as \u escapes


def test_entity_markup_is_neutralised() -> None:
    tricky = 'pon [la alarma](objeto) a las [7]{"entity": "hora"}'
    cleaned = clean_text(tricky)
    assert not RASA_ENTITY_REGEX.search(cleaned)
    assert cleaned == 'pon (la alarma)(objeto) a las (7){"entity": "hora"}'
    # Plain parentheses and lone brackets are left alone.
    assert clean_text("alarma(s) [sin cerrar") == "alarma(s) [sin cerrar"


def test_clean_text_collapses_whitespace() -> None:
    assert clean_text("  Cambiar alarma\tde 7am\n a 7pm  ") == "Cambiar alarma de 7am a 7pm"
    assert clean_text(" \t ") == ""


def test_duplicates_dropped_per_intent(tmp_path: Path) -> None:
    examples = [
        Example("cancelar alarma", "alarm__cancel_alarm"),
        Example("cancelar alarma", "alarm__cancel_alarm"),
        Example("cancelar alarma", "reminder__cancel_reminder"),  # same text, other intent
        Example("ver alarmas", "alarm__show_alarms"),
    ]
    counts = write_nlu_yaml(examples, tmp_path / "nlu.yml")
    assert counts == {"examples": 3, "duplicates_dropped": 1, "intents": 3}
    back = read_rasa_nlu(tmp_path / "nlu.yml")
    assert sorted(back, key=lambda e: (e.intent, e.text)) == sorted(
        set(examples), key=lambda e: (e.intent, e.text)
    )


def test_read_mtod_tsv(tmp_path: Path) -> None:
    tok = json.dumps({"tokenizations": [{"tokens": ["x"]}]})
    rows = [
        f"alarm/modify_alarm\t18:21:datetime\tCambiar alarma de 7am a 7pm por favor \tes_XX\t{tok}",
        f"weather/find\t\t¿Va a llover: sí o no?\tes_XX\t{tok}",
        f"weather/find\t\t  \tes_XX\t{tok}",  # empty utterance: skipped
        "",
        f"weather/find\t\t¿Va a llover: sí o no?\tes_XX\t{tok}",  # duplicate: kept
    ]
    path = tmp_path / "mtod.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert read_mtod_tsv(path) == [
        Example("Cambiar alarma de 7am a 7pm por favor", "alarm__modify_alarm"),
        Example("¿Va a llover: sí o no?", "weather__find"),
        Example("¿Va a llover: sí o no?", "weather__find"),
    ]


def test_read_mtod_tsv_rejects_malformed(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("weather/find\tonly two columns\n", encoding="utf-8")
    with pytest.raises(ValueError, match="columns"):
        read_mtod_tsv(path)


def test_parse_block_form_with_entities() -> None:
    doc = yaml.safe_load(
        "version: '3.1'\n"
        "nlu:\n"
        "- intent: book_appointment\n"
        "  examples: |\n"
        "    - quiero una cita\n"
        "    - cita para el [lunes](dia)\n"
        "- synonym: lunes\n"
        "  examples: |\n"
        "    - lun\n"
    )
    assert parse_nlu_document(doc) == [
        Example("quiero una cita", "book_appointment"),
        Example("cita para el lunes", "book_appointment"),
    ]


def test_split_validation_is_stratified_and_disjoint() -> None:
    examples = [Example(f"a{i}", "a") for i in range(80)] + [
        Example(f"b{i}", "b") for i in range(20)
    ]
    examples.append(Example("solo", "c"))  # a single example stays in train
    train, val = split_validation(examples, 0.2, seed=1)
    assert not set(train) & set(val)
    assert len(train) + len(val) == len(examples)
    assert sum(e.intent == "b" for e in val) == 4
    assert Example("solo", "c") in train


def test_score_macro_f1_over_true_and_predicted_labels() -> None:
    figures = score(["a", "a", "b", "c"], ["a", "a", "b", "b"])
    assert figures["accuracy"] == pytest.approx(0.75)
    # c is never predicted: F1(c) = 0 counts in the macro average, like `rasa test nlu`.
    assert figures["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert figures["per_intent"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
