"""Article files: Markdown with YAML front matter, and question–answer pairs in CSV or JSON.

Reading is all-or-nothing per batch: every problem of every file is collected with its file and
line, and if there is any, nothing of the batch is returned (`BatchError`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.campaigns import CAMPAIGNS

ARTICLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,119}$")
SKIPPED_FILES = {"readme.md"}
SUFFIXES = (".md", ".csv", ".json")

SHORT_ANSWER_MAX = 300
# Markdown a plain-text channel would show as is: emphasis, code, headings, links.
MARKDOWN = re.compile(r"\*|`|__|(?<!\w)_(?=\S)|\[[^\]]*\]\(|^\s*#", re.MULTILINE)
# Words that give away an internal note in a source, which people see under the answer.
INTERNAL_SOURCE = re.compile(
    r"notas? de dominio|del proyecto|bot/|\.ya?ml\b|pendiente(?: de)? confirmar|centro de contacto",
    re.IGNORECASE,
)
INTERNAL_SOURCE_MESSAGE = (
    "la fuente se muestra a las personas: nombra una referencia pública (página o trámite del "
    "IMSS, artículo de una ley, servicio público), no notas internas («notas de dominio», «del "
    "proyecto», «centro de contacto», archivos, «pendiente de confirmar»); lo interno va en la "
    "nota para editores"
)
SHORT_ANSWER_MISSING = (
    "falta la respuesta corta: un artículo publicado la necesita (lo esencial en hasta 300 "
    "caracteres, texto simple); escríbela y guarda el borrador antes de enviarlo a revisión o "
    "publicarlo"
)


class ArticleData(BaseModel):
    """An article as files and the API describe it (the body is the Markdown after the header)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(description="kebab-case, unique: the article's stable name")
    title: str = Field(min_length=3, max_length=200)
    campaign: str
    questions: list[str] = Field(min_length=1, description="Phrasings a person would type")
    body: str = Field(min_length=1)
    short_answer: str | None = Field(
        default=None,
        description="The essential answer in at most 300 characters of plain text (no Markdown);"
        " required to publish",
    )
    source: str = Field(min_length=3, max_length=500, description="Where the facts come from")
    status: Literal["draft", "published"] = "draft"
    valid_from: date | None = None
    valid_until: date | None = None
    tags: list[str] = []
    editor_note: str | None = None

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        return [str(tag) for tag in value] if isinstance(value, list) else value

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not ARTICLE_ID.match(value):
            raise ValueError("debe ser kebab-case: minúsculas, números y guiones")
        return value

    @field_validator("campaign")
    @classmethod
    def _campaign(cls, value: str) -> str:
        if value not in CAMPAIGNS:
            raise ValueError(f"campaña desconocida; usa una de: {', '.join(CAMPAIGNS)}")
        return value

    @field_validator("questions")
    @classmethod
    def _questions(cls, value: list[str]) -> list[str]:
        cleaned = [q.strip() for q in value if q and q.strip()]
        if not cleaned:
            raise ValueError("hace falta al menos una pregunta")
        return cleaned

    @field_validator("short_answer")
    @classmethod
    def _short_answer(cls, value: str | None) -> str | None:
        if not value:
            return None
        if len(value) > SHORT_ANSWER_MAX:
            raise ValueError(f"tiene {len(value)} caracteres; el máximo es {SHORT_ANSWER_MAX}")
        if "\n" in value:
            raise ValueError("debe ser un solo párrafo, sin saltos de línea")
        if MARKDOWN.search(value):
            raise ValueError(
                "debe ser texto simple, sin Markdown (sin asteriscos, guiones bajos, «`», «#» "
                "ni ligas)"
            )
        return value

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


def source_problem(source: str) -> str | None:
    """Why a source may not be shown to people (it names internal material), or None."""
    return INTERNAL_SOURCE_MESSAGE if INTERNAL_SOURCE.search(source) else None


def publication_problems(article: ArticleData, publishing: bool) -> dict[str, str]:
    """What keeps an article from reaching people, by field: a source naming internal notes
    (always), a missing short answer (when it is to be published). Checked apart from the model
    so that revisions stored before these rules still load."""
    found: dict[str, str] = {}
    if problem := source_problem(article.source):
        found["source"] = problem
    if publishing and not article.short_answer:
        found["short_answer"] = SHORT_ANSWER_MISSING
    return found


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass
class BatchError(Exception):
    """Problems found in a batch of files; nothing of the batch was taken."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def slugify(text: str, max_length: int = 80) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug[:max_length].rstrip("-") or "articulo"


# pydantic's messages for the errors an editor can make, in Spanish.
SPANISH = {
    "missing": "falta este campo",
    "extra_forbidden": "campo desconocido",
    "string_type": "debe ser texto",
    "list_type": "debe ser una lista",
    "too_short": "está vacío o es demasiado corto",
    "string_too_short": "es demasiado corto",
    "string_too_long": "es demasiado largo",
    "date_from_datetime_parsing": "fecha no válida (usa AAAA-MM-DD)",
    "date_parsing": "fecha no válida (usa AAAA-MM-DD)",
    "date_type": "fecha no válida (usa AAAA-MM-DD)",
    "literal_error": "valor no permitido",
}


def _line_of(header: str, key: str, first_line: int) -> int:
    for number, line in enumerate(header.splitlines(), start=first_line):
        if line.startswith(f"{key}:"):
            return number
    return first_line


def _validation_problems(
    path: str, exc: ValidationError, header: str | None, first_line: int
) -> list[Problem]:
    problems = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        line = _line_of(header, key, first_line) if header is not None else first_line
        message = SPANISH.get(error["type"], error["msg"].removeprefix("Value error, "))
        if error["type"] == "literal_error":
            message += f" ({error['ctx'].get('expected', '')})"
        problems.append(Problem(path, line, f"«{key}»: {message}" if key else message))
    return problems


def parse_markdown(path: str, text: str) -> ArticleData:
    """One Markdown article; raises BatchError with the file's problems."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise BatchError([Problem(path, 1, "el archivo debe empezar con «---» (encabezado YAML)")])
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise BatchError([Problem(path, 1, "falta el «---» que cierra el encabezado")]) from None
    header = "\n".join(lines[1:end])
    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "YAML no válido"
        raise BatchError([Problem(path, line, f"encabezado YAML no válido: {problem}")]) from exc
    if not isinstance(meta, dict):
        raise BatchError([Problem(path, 2, "el encabezado debe ser una lista de campos")])
    body = "\n".join(lines[end + 1 :]).strip()
    try:
        article = ArticleData(**meta, body=body)
    except ValidationError as exc:
        raise BatchError(_validation_problems(path, exc, header, 2)) from exc
    except TypeError as exc:  # a non-string key
        raise BatchError([Problem(path, 2, f"encabezado no válido: {exc}")]) from exc
    found = publication_problems(article, publishing=article.status == "published")
    if found:
        raise BatchError(
            [
                Problem(
                    path,
                    _line_of(header, "source" if key == "source" else "status", 2),
                    f"«{key}»: {message}",
                )
                for key, message in found.items()
            ]
        )
    return article


QA_FIELDS = ("question", "answer", "short_answer", "title", "campaign", "source", "id")


def _qa_article(path: str, line: int, row: dict[str, Any]) -> ArticleData:
    question = str(row.get("question") or "").strip()
    data = {
        "id": row.get("id") or slugify(question),
        "title": row.get("title") or question,
        "campaign": row.get("campaign") or "derechohabiente",
        "questions": [question] if question else [],
        "body": row.get("answer") or "",
        "short_answer": row.get("short_answer") or None,
        "source": row.get("source") or path,
        "status": row.get("status") or "draft",
    }
    try:
        article = ArticleData(**data)
    except ValidationError as exc:
        raise BatchError(_validation_problems(path, exc, None, line)) from exc
    found = publication_problems(article, publishing=article.status == "published")
    if found:
        raise BatchError([Problem(path, line, f"«{k}»: {m}") for k, m in found.items()])
    return article


def parse_qa_csv(path: str, text: str) -> list[ArticleData]:
    """Question–answer pairs: columns `question`, `answer` (and optionally short_answer, title,
    campaign, source, id, status); one article per row."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("question", "answer") if c not in (reader.fieldnames or [])]
    if missing:
        raise BatchError([Problem(path, 1, f"faltan las columnas: {', '.join(missing)}")])
    articles, problems = [], []
    for row in reader:
        try:
            articles.append(_qa_article(path, reader.line_num, row))
        except BatchError as exc:
            problems += exc.problems
    if problems:
        raise BatchError(problems)
    return articles


def parse_qa_json(path: str, text: str) -> list[ArticleData]:
    """A JSON list of {"question", "answer", …} objects (the same keys as the CSV columns)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BatchError([Problem(path, exc.lineno, f"JSON no válido: {exc.msg}")]) from exc
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise BatchError([Problem(path, 1, "se esperaba una lista de objetos {question, answer}")])
    articles, problems = [], []
    for index, item in enumerate(data, start=1):
        try:
            articles.append(_qa_article(f"{path} (elemento {index})", 0, item))
        except BatchError as exc:
            problems += exc.problems
    if problems:
        raise BatchError(problems)
    return articles


def files_in(paths: Iterable[Path]) -> list[Path]:
    """The article files named, or found (recursively) in the folders named."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        else:
            found.append(path)
    return [p for p in found if p.name.lower() not in SKIPPED_FILES]


def read_batch(paths: Iterable[Path]) -> list[ArticleData]:
    """Every article of the files and folders given, or BatchError with every problem."""
    articles: list[ArticleData] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in files_in(paths):
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(Problem(name, None, "no existe"))
            continue
        except UnicodeDecodeError:
            problems.append(Problem(name, None, "no está en UTF-8"))
            continue
        try:
            if path.suffix == ".md":
                batch = [parse_markdown(name, text)]
            elif path.suffix == ".csv":
                batch = parse_qa_csv(name, text)
            elif path.suffix == ".json":
                batch = parse_qa_json(name, text)
            else:
                problems.append(Problem(name, None, "formato no reconocido (.md, .csv, .json)"))
                continue
        except BatchError as exc:
            problems += exc.problems
            continue
        for article in batch:
            if article.id in seen:
                problems.append(
                    Problem(name, None, f"el id «{article.id}» ya está en {seen[article.id]}")
                )
            seen[article.id] = name
            articles.append(article)
    if problems:
        raise BatchError(problems)
    return articles


def to_markdown(article: ArticleData) -> str:
    """The article as a file (the inverse of parse_markdown)."""
    meta = article.model_dump(exclude={"body"}, exclude_none=True, mode="json")
    if not meta.get("tags"):
        meta.pop("tags", None)
    header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100)
    return f"---\n{header}---\n{article.body}\n"
