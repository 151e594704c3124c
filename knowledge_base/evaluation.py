"""The knowledge base's evaluation set (`tests/kb/eval.tsv`): questions as people type them, each
with the article that should answer it or the agency it belongs to when it is not the institute's.

A line is `split<TAB>expected<TAB>question`: `split` is `dev` (tune on it) or `test` (report on
it once); `expected` is an article id, or `out:<agency>` for a question the bot should not answer
with an article (`out:off_topic` for chatter). Lines starting with `#` and blank lines are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from core.settings import PROJECT_ROOT
from core.text import fold_accents
from knowledge_base.content import ARTICLE_ID, read_batch

EVAL_PATH = PROJECT_ROOT / "tests" / "kb" / "eval.tsv"
ARTICLES_DIR = PROJECT_ROOT / "knowledge_base" / "articles"

SPLITS = ("dev", "test")
OUT_PREFIX = "out:"
# The agencies people confuse with the institute, and `off_topic` for what belongs to nobody.
AGENCIES = frozenset(
    {
        "sat",
        "ine",
        "sre",
        "infonavit",
        "issste",
        "fovissste",
        "afore",
        "cfe",
        "registro_civil",
        "sep",
        "bienestar",
        "profeco",
        "estatal_municipal",
        "off_topic",
    }
)


@dataclass(frozen=True)
class EvalQuestion:
    split: str
    question: str
    expected_article: str | None  # the article that should answer, for an in-scope question
    out_of_scope: str | None  # the agency (or `off_topic`), for a question that is not ours
    line: int = 0  # where it is in the file

    @property
    def in_scope(self) -> bool:
        return self.expected_article is not None


def _parse_line(path: Path, number: int, line: str) -> EvalQuestion:
    where = f"{path}:{number}"
    fields = line.split("\t")
    if len(fields) != 3:
        raise ValueError(
            f"{where}: se esperaban 3 columnas separadas por tabulador "
            f"(split, expected, question), hay {len(fields)}"
        )
    split, expected, question = (field.strip() for field in fields)
    if split not in SPLITS:
        raise ValueError(f"{where}: split «{split}» no válido; usa dev o test")
    if not question:
        raise ValueError(f"{where}: falta la pregunta")
    if expected.startswith(OUT_PREFIX):
        agency = expected.removeprefix(OUT_PREFIX)
        if agency not in AGENCIES:
            raise ValueError(
                f"{where}: dependencia desconocida «{agency}»; usa una de: "
                f"{', '.join(sorted(AGENCIES))}"
            )
        return EvalQuestion(split, question, None, agency, number)
    if not ARTICLE_ID.match(expected):
        raise ValueError(f"{where}: «{expected}» no es un id de artículo ni out:<dependencia>")
    return EvalQuestion(split, question, expected, None, number)


def load_eval(path: Path = EVAL_PATH) -> list[EvalQuestion]:
    """Every question of the set; ValueError naming the line of the first malformed one."""
    questions = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        questions.append(_parse_line(path, number, raw))
    return questions


def article_ids(folder: Path = ARTICLES_DIR, today: date | None = None) -> set[str]:
    """The shipped articles the bot answers from: published and valid today."""
    today = today or date.today()
    return {
        article.id
        for article in read_batch([folder])
        if article.status == "published" and article.valid_on(today)
    }


def normalize(text: str) -> str:
    """Lower case, without accents, punctuation or repeated spaces: for comparing phrasings."""
    return " ".join(re.sub(r"[^\w\s]", " ", fold_accents(text.casefold())).split())


@dataclass(frozen=True)
class Decision:
    """What the bot did with one question: answered with an article, said whose it is (another
    agency), or abstained (neither)."""

    article: str | None = None
    agency: str | None = None
    choices: tuple[str, ...] = ()  # a close call: "¿Te refieres a A o a B?"

    @property
    def offered(self) -> tuple[str, ...]:
        """The articles the person gets or chooses from."""
        return self.choices or ((self.article,) if self.article else ())


@dataclass(frozen=True)
class EvalScore:
    in_scope: int
    answered: int  # in-scope questions answered with an article
    right: int  # … with the expected one
    abstained: int  # in-scope questions with no article (the bot said it does not know)
    out_of_scope: int
    out_answered: int  # out-of-scope questions answered with an article (the harm)
    out_said_whose: int  # out-of-scope questions told which agency handles them
    asked: int = 0  # in-scope questions met with "¿Te refieres a A o a B?"

    @property
    def top1_of_answered(self) -> float:
        return self.right / self.answered if self.answered else 0.0

    @property
    def in_scope_right(self) -> float:
        return self.right / self.in_scope if self.in_scope else 0.0

    @property
    def abstention_rate(self) -> float:
        return self.abstained / self.in_scope if self.in_scope else 0.0

    @property
    def out_answered_rate(self) -> float:
        return self.out_answered / self.out_of_scope if self.out_of_scope else 0.0

    @property
    def accuracy(self) -> float:
        """Answer-or-abstain accuracy: in scope, the right article; out of scope, no article."""
        total = self.in_scope + self.out_of_scope
        good = self.right + (self.out_of_scope - self.out_answered)
        return good / total if total else 0.0


def score(questions: list[EvalQuestion], decisions: list[Decision]) -> EvalScore:
    pairs = list(zip(questions, decisions, strict=True))
    inside = [(q, d) for q, d in pairs if q.in_scope]
    outside = [d for q, d in pairs if not q.in_scope]
    return EvalScore(
        in_scope=len(inside),
        answered=sum(bool(d.offered) for _, d in inside),
        right=sum(q.expected_article in d.offered for q, d in inside),  # a choice counts
        abstained=sum(not d.offered for _, d in inside),
        out_of_scope=len(outside),
        out_answered=sum(bool(d.offered) for d in outside),
        out_said_whose=sum(not d.offered and d.agency is not None for d in outside),
        asked=sum(bool(d.choices) for _, d in inside),
    )
