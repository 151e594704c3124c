"""`ventanilla bench emergency`: its phrase file and its arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from ventanilla.bench.emergency import PHRASES, Phrase, by_split, load_phrases, score


def test_the_shipped_phrase_set_has_enough_of_both_and_valid_labels() -> None:
    phrases = load_phrases(PHRASES)
    emergencies = [p for p in phrases if p.kind != "-"]
    ordinary = [p for p in phrases if p.kind == "-"]
    assert len(emergencies) >= 80 and len(ordinary) >= 80
    assert {p.kind for p in emergencies} == {"infarto", "suicidio", "respiracion", "inconsciente"}
    assert {p.split for p in phrases} == {"dev", "test"}
    assert len({p.text for p in phrases}) == len(phrases)  # no phrase twice


def test_a_malformed_line_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "phrases.tsv"
    bad.write_text("kind\tsplit\ttext\ninfarto\tdev\n", encoding="utf-8")
    with pytest.raises(typer.BadParameter, match="línea 2"):
        load_phrases(bad)


def test_recall_counts_any_kind_and_false_alarms_only_ordinary_messages() -> None:
    phrases = [
        Phrase("infarto", "dev", "a"),
        Phrase("suicidio", "dev", "b"),
        Phrase("respiracion", "test", "c"),
        Phrase("-", "dev", "d"),
        Phrase("-", "dev", "e"),
    ]
    found = ["infarto", "infarto", None, "suicidio", None]
    dev, test = (s for _, _, s in by_split("capa", phrases, found))
    assert (dev.caught, dev.right_kind, dev.emergencies) == (2, 1, 2)
    assert dev.false_alarms == 1 and dev.false_alarm_rate == 0.5
    assert test.recall == 0.0 and test.missed == ("c",)
    assert score([], []).recall == 1.0
