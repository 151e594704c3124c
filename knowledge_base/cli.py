"""`ventanilla kb …`: ingest article files, rebuild the index, search from the terminal."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from core.settings import PROJECT_ROOT, get_settings
from knowledge_base.content import BatchError, read_batch

if TYPE_CHECKING:
    from knowledge_base.base import KnowledgeBase

# The search stack (FAISS, embeddings) is imported by the commands that use it, so that
# `ventanilla users …` and the other commands start fast.

kb_app = typer.Typer(help="Base de conocimiento: importar, indexar y buscar.", no_args_is_help=True)

BaseOption = Annotated[
    Path | None,
    typer.Option(
        "--base",
        help="Otra base (pruebas, benchmarks) en esta carpeta en vez de la configurada; "
        "lo importado ahí se publica sin revisión.",
    ),
]
err = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


async def _reindex(kb: KnowledgeBase) -> int:
    with _progress() as progress:
        task = progress.add_task("Calculando vectores…", total=None)
        return await kb.reindex(
            lambda done, total: progress.update(task, completed=done, total=total)
        )


@kb_app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Archivos .md/.csv/.json o carpetas.")],
    base: BaseOption = None,
) -> None:
    """Import articles: all of the batch or nothing (a broken file is named with its line)."""
    from knowledge_base.base import open_base

    try:
        articles = read_batch(paths)
    except BatchError as exc:
        err.print(f"[red]No se importó nada:[/red] {len(exc.problems)} problema(s).")
        for problem in exc.problems:  # one line each, never wrapped: editors grep them
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1) from None

    async def work() -> None:
        async with open_base(get_settings(), base) as kb:
            report = await kb.workflow.ingest(articles, actor="ingest")
            count = await _reindex(kb)
        typer.echo(
            f"Importados {len(articles)} artículos: {report.created} nuevos, {report.updated} "
            f"actualizados, {report.unchanged} sin cambios. Índice: {count} artículos publicados."
        )

    asyncio.run(work())


@kb_app.command()
def reindex(base: BaseOption = None) -> None:
    """Rebuild the index from the published articles and swap it in."""
    from knowledge_base.base import open_base

    async def work() -> None:
        async with open_base(get_settings(), base) as kb:
            count = await _reindex(kb)
        typer.echo(f"Índice listo: {count} artículos publicados.")

    asyncio.run(work())


@kb_app.command()
def search(
    text: Annotated[str | None, typer.Argument(help="Lo que escribiría una persona.")] = None,
    k: Annotated[int, typer.Option("-k", help="Cuántos resultados.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Salida JSON.")] = False,
    queries: Annotated[
        Path | None,
        typer.Option(help="Un archivo con una consulta por renglón: responde JSON por renglón."),
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Campaña que va primero.")] = None,
    base: BaseOption = None,
) -> None:
    """Search the index: ids, titles and scores."""
    from knowledge_base.base import index_path
    from knowledge_base.search import HybridIndex

    path = index_path(get_settings(), base)
    if not path.exists():
        err.print(f"No hay índice en {path}: corre «ventanilla kb ingest» o «kb reindex».")
        raise typer.Exit(1)
    if (text is None) == (queries is None):
        err.print("Da un texto o --queries ARCHIVO (uno de los dos).")
        raise typer.Exit(2)
    index = HybridIndex.load(path)

    def results(query: str) -> list[dict[str, object]]:
        hits = index.search(query, k=k, boost_campaign=campaign)
        return [
            {"id": h.id, "title": h.title, "score": round(h.score, 6),
             "confidence": round(h.confidence, 6)}
            for h in hits
        ]  # fmt: skip

    if queries is not None:
        for line in queries.read_text(encoding="utf-8").splitlines():
            if line.strip():
                sys.stdout.write(
                    json.dumps({"query": line, "results": results(line)}, ensure_ascii=False) + "\n"
                )
        return
    assert text is not None
    found = results(text)
    if as_json:
        typer.echo(json.dumps({"query": text, "results": found}, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"«{text}»")
    for column in ("id", "título", "puntaje", "confianza"):
        table.add_column(column, justify="right" if column in ("puntaje", "confianza") else "left")
    for hit in found:
        table.add_row(
            str(hit["id"]), str(hit["title"]), f"{hit['score']:.3f}", f"{hit['confidence']:.3f}"
        )
    Console().print(table)


ARTICLES = Path(__file__).resolve().parent / "articles"


def articles_digest(folder: Path, settings_key: str) -> str:
    digest = hashlib.sha256(settings_key.encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@kb_app.command()
def sync(
    folder: Annotated[Path, typer.Option(help="Carpeta de artículos.")] = ARTICLES,
    force: Annotated[bool, typer.Option(help="Importar aunque no hayan cambiado.")] = False,
) -> None:
    """Import the shipped articles into the configured base when they changed (set-up step)."""
    from knowledge_base.base import INDEX_CONFIG, index_path

    settings = get_settings()
    stamp = settings.var_dir / "kb" / "articles.sha256"
    key = json.dumps(
        [settings.kb_embeddings_backend, settings.kb_embeddings_model, INDEX_CONFIG.to_dict()]
    )
    digest = articles_digest(folder, key)
    current = stamp.read_text().strip() if stamp.exists() else None
    if not force and current == digest and index_path(settings).exists():
        typer.echo("Base de conocimiento al día.")
        return
    ingest([folder], base=None)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest + "\n")


HELDOUT = PROJECT_ROOT / "tests" / "kb" / "heldout.tsv"


@kb_app.command()
def calibrate(
    heldout: Annotated[
        Path, typer.Option(help="TSV: pregunta<TAB>id del artículo, o «-» si no hay respuesta.")
    ] = HELDOUT,
    base: BaseOption = None,
) -> None:
    """Choose the confidence threshold on held-out questions (right answers + right silences)."""
    from knowledge_base.base import index_path
    from knowledge_base.search import HybridIndex, choose_threshold
    from knowledge_base.search.fusion import threshold_metrics

    index = HybridIndex.load(index_path(get_settings(), base))
    pairs = [
        line.split("\t")
        for line in heldout.read_text(encoding="utf-8").splitlines()
        if "\t" in line
    ]
    scores, correct = [], []
    for question, expected in pairs:
        hits = index.search(question, k=1)
        scores.append(hits[0].confidence if hits else 0.0)
        correct.append(bool(hits) and expected.strip() != "-" and hits[0].id == expected.strip())
    chosen = choose_threshold(scores, correct, objective="accuracy")
    # Two-fold check: chosen on one half, measured on the other.
    folds = []
    for start in (0, 1):
        train = choose_threshold(scores[start::2], correct[start::2], objective="accuracy")
        other = 1 - start
        folds.append(threshold_metrics(scores[other::2], correct[other::2], train.threshold))
    table = Table(title=f"Calibración en {heldout.name} ({len(pairs)} preguntas)")
    for column in ("", "umbral", "exactitud", "precisión", "respondidas"):
        table.add_column(column, justify="left" if not column else "right")
    rows = [("todas", chosen)] + [
        (f"mitad {n} (elegido en la otra)", fold) for n, fold in enumerate(folds, start=1)
    ]
    for label, result in rows:
        table.add_row(
            label,
            *(f"{v:.3f}" for v in (result.threshold, result.accuracy, result.precision,
                                   result.answered)),
        )  # fmt: skip
    Console().print(table)
    top1 = sum(correct) / max(1, sum(1 for _, e in pairs if e.strip() != "-"))
    typer.echo(f"Acierto del primer resultado (preguntas con respuesta): {top1:.3f}")
    typer.echo(f"Sugerido: VENTANILLA_KB_MIN_CONFIDENCE={chosen.threshold:.3f}")
