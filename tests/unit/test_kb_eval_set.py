"""The knowledge base's evaluation set (tests/kb/eval.tsv): its size and splits, that it points at
live articles and covers them all, that its phrasings are its own, and how its loader refuses a
broken line."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from knowledge_base.content import read_batch
from knowledge_base.evaluation import (
    AGENCIES,
    ARTICLES_DIR,
    EVAL_PATH,
    EvalQuestion,
    article_ids,
    load_eval,
    normalize,
)

HELDOUT = PROJECT_ROOT / "tests" / "kb" / "heldout.tsv"


@pytest.fixture(scope="module")
def questions() -> list[EvalQuestion]:
    return load_eval(EVAL_PATH)


@pytest.fixture(scope="module")
def live() -> set[str]:
    return article_ids()


def repeated(texts: list[str]) -> list[str]:
    """The texts that appear more than once once normalized."""
    counts = Counter(normalize(t) for t in texts)
    return sorted(text for text, n in counts.items() if n > 1)


def copied(texts: list[str], references: list[str]) -> list[str]:
    """The texts equal, once normalized, to one of the references."""
    known = {normalize(r) for r in references}
    return [t for t in texts if normalize(t) in known]


def reference_phrasings() -> list[str]:
    """The articles' own example questions (drafts too) and the held-out queries."""
    phrasings = [q for article in read_batch([ARTICLES_DIR]) for q in article.questions]
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            phrasings.append(line.split("\t")[0])
    return phrasings


# ---------------------------------------------------------------- the set itself


def test_the_set_is_big_enough_and_both_halves_hold_both_kinds(
    questions: list[EvalQuestion],
) -> None:
    kinds = Counter((q.split, q.in_scope) for q in questions)
    assert kinds["dev", True] + kinds["test", True] >= 300
    assert kinds["dev", False] + kinds["test", False] >= 150
    for in_scope in (True, False):
        dev, test = kinds["dev", in_scope], kinds["test", in_scope]
        assert min(dev, test) >= 0.45 * (dev + test), (in_scope, dev, test)


def test_every_expected_article_is_shipped_and_published(
    questions: list[EvalQuestion], live: set[str]
) -> None:
    shipped = {a.id: a for a in read_batch([ARTICLES_DIR])}
    for q in questions:
        if q.expected_article is None:
            continue
        where = f"line {q.line}: {q.expected_article}"
        assert q.expected_article in shipped, f"{where} is not an article"
        status = shipped[q.expected_article].status
        assert q.expected_article in live, f"{where} is not live ({status})"


def test_every_live_article_is_asked_twice_in_both_halves(
    questions: list[EvalQuestion], live: set[str]
) -> None:
    splits: dict[str, list[str]] = defaultdict(list)
    for q in questions:
        if q.expected_article:
            splits[q.expected_article].append(q.split)
    too_few = sorted(a for a in live if len(splits[a]) < 2)
    assert not too_few, f"articles asked fewer than twice: {too_few}"
    one_sided = sorted(a for a in live if set(splits[a]) != {"dev", "test"})
    assert not one_sided, f"articles missing from a split: {one_sided}"


def test_every_agency_is_in_both_halves(questions: list[EvalQuestion]) -> None:
    splits: dict[str, set[str]] = defaultdict(set)
    for q in questions:
        if q.out_of_scope:
            splits[q.out_of_scope].add(q.split)
    assert set(splits) == AGENCIES
    assert all(s == {"dev", "test"} for s in splits.values()), dict(splits)


def test_no_question_is_asked_twice(questions: list[EvalQuestion]) -> None:
    assert repeated([q.question for q in questions]) == []


def test_no_question_is_an_article_example_or_a_heldout_query(
    questions: list[EvalQuestion],
) -> None:
    references = reference_phrasings()
    assert len(references) > 500  # the articles' questions and the held-out file were read
    assert copied([q.question for q in questions], references) == []


def test_the_checks_catch_what_they_look_for() -> None:
    assert repeated(["Perdí mi NSS", "perdi  mi nss?", "otra"]) == ["perdi mi nss"]
    example = read_batch([ARTICLES_DIR])[0].questions[0]
    assert copied([example.upper() + "!", "algo nuevo"], reference_phrasings()) == [
        example.upper() + "!"
    ]


# ---------------------------------------------------------------- the loader


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "eval.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_loader_reads_both_kinds_and_skips_comments(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# comentario\n\ndev\tobtener-nss\tnss perdido\ntest\tout:sat\tcomo saco mi rfc\n",
    )
    assert load_eval(path) == [
        EvalQuestion("dev", "nss perdido", "obtener-nss", None, 3),
        EvalQuestion("test", "como saco mi rfc", None, "sat", 4),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("dev\tobtener-nss", "3 columnas"),
        ("dev\tobtener-nss\tnss\textra", "3 columnas"),
        ("dev obtener-nss nss perdido", "3 columnas"),
        ("train\tobtener-nss\tnss perdido", "split «train»"),
        ("dev\tout:imss\tnss perdido", "dependencia desconocida «imss»"),
        ("dev\tout:\tnss perdido", "dependencia desconocida"),
        ("dev\tObtener NSS\tnss perdido", "no es un id"),
        ("test\tobtener-nss\t  ", "falta la pregunta"),
    ],
)
def test_a_malformed_line_is_refused_with_its_number(
    tmp_path: Path, line: str, reason: str
) -> None:
    path = write(tmp_path, f"# encabezado\ndev\tobtener-nss\tnss perdido\n{line}\n")
    with pytest.raises(ValueError, match=reason) as caught:
        load_eval(path)
    assert f"{path}:3:" in str(caught.value)


def test_live_articles_are_the_published_ones_valid_today(tmp_path: Path) -> None:
    def article(name: str, extra: str) -> None:
        (tmp_path / f"{name}.md").write_text(
            f'---\nid: {name}\ntitle: "Título {name}"\ncampaign: derechohabiente\n'
            f'questions:\n  - "pregunta de {name}"\nsource: "IMSS"\n'
            f'short_answer: "Respuesta corta de {name}."\n{extra}---\nTexto.\n',
            encoding="utf-8",
        )

    article("vigente", "status: published\n")
    article("borrador", "status: draft\n")
    article("vencido", "status: published\nvalid_until: 2020-12-31\n")
    article("futuro", "status: published\nvalid_from: 2999-01-01\n")
    assert article_ids(tmp_path) == {"vigente"}


def test_normalize_ignores_case_accents_punctuation_and_spaces() -> None:
    assert normalize("  ¿Perdí   mi NSS?  ") == normalize("perdi mi nss") == "perdi mi nss"


def test_scoring_counts_right_answers_abstentions_and_harmful_answers() -> None:
    from knowledge_base.evaluation import Decision, EvalQuestion, score

    questions = [
        EvalQuestion("dev", "a", "obtener-nss", None),
        EvalQuestion("dev", "b", "obtener-nss", None),
        EvalQuestion("dev", "c", "cancelar-cita", None),
        EvalQuestion("dev", "d", None, "sat"),
        EvalQuestion("dev", "e", None, "off_topic"),
    ]
    decisions = [
        Decision(article="obtener-nss"),  # right
        Decision(article="que-es-el-nss"),  # wrong
        Decision(),  # abstained
        Decision(agency="sat"),  # said whose: good
        Decision(article="obtener-nss"),  # an article for chatter: the harm
    ]
    s = score(questions, decisions)
    assert (s.right, s.answered, s.abstained) == (1, 2, 1)
    assert (s.out_answered, s.out_said_whose) == (1, 1)
    assert s.top1_of_answered == 0.5 and s.in_scope_right == 1 / 3
    assert s.accuracy == 2 / 5  # one right article + one out-of-scope question without one
    # A close call offering the expected article counts as right: the person picks it.
    close = score(questions[:1], [Decision(choices=("que-es-el-nss", "obtener-nss"))])
    assert (close.right, close.asked, close.answered) == (1, 1, 1)
