"""`ventanilla bench nlu`: intent-classification benchmark of the Rasa NLU pipeline.

Two measurements, both with models this command trains itself (offline, no pretrained download):

1. **MTOD-es** (Schuster et al. 2019, "Cross-lingual Transfer Learning for Multilingual Task
   Oriented Dialog", NAACL; CC BY-SA; Spanish split via github.com/zliucr/Crosslingual-NLU):
   the BASELINE (Rasa's default DIET pipeline, ``baseline_config.yml``) and the PROJECT pipeline
   (``config.yml``) are trained on the train split and scored on the test split (or, with
   ``--validation``, on a stratified part of the train split held out for model selection).
2. **Project data**: the project pipeline trained on ``nlu_data/`` and scored on the held-out
   ``tests/nlu/holdout.yml`` (never trained on), per intent.

Training runs ``rasa train nlu`` of the Rasa venv (``settings.rasa_venv``) as a subprocess, with
the project root on PYTHONPATH (custom components live in ``bot/components``) and Rasa's training
cache disabled so that every training time is a cold one. Predictions run one message at a time
through ``Agent.parse_message`` (``rasa_predict.py``), like the Rasa server; scores are computed
here with scikit-learn and, like ``rasa test nlu``, judge the classifier's top intent even when
the FallbackClassifier would have answered ``nlu_fallback`` (the fallback rate is reported apart).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from core.settings import PROJECT_ROOT, get_settings
from ventanilla.bench import bench_app
from ventanilla.bench.stats import percentile
from ventanilla.training import rasa_env

BENCH_DIR = Path(__file__).resolve().parent
BASELINE_CONFIG = BENCH_DIR / "baseline_config.yml"
RASA_PREDICT = BENCH_DIR / "rasa_predict.py"
PROJECT_CONFIG = PROJECT_ROOT / "config.yml"
PROJECT_NLU = PROJECT_ROOT / "nlu_data"
PROJECT_HOLDOUT = PROJECT_ROOT / "tests" / "nlu" / "holdout.yml"
DEFAULT_MTOD_DIR = PROJECT_ROOT.parent / "shared" / "eval"

MTOD_CITATION = (
    "MTOD-es: Schuster, Gupta, Shah & Lewis (2019), 'Cross-lingual Transfer Learning for "
    "Multilingual Task Oriented Dialog', NAACL-HLT; CC BY-SA; Spanish split as distributed in "
    "github.com/zliucr/Crosslingual-NLU (mtod_train-es.tsv, mtod_test-es.tsv)."
)

# Rasa's entity markup inside a training example: [text](type), [text]{"entity": …}, [text][…].
# Copied from rasa.shared.nlu.training_data.entities_parser.ENTITY_REGEX (Rasa 3.6).
RASA_ENTITY_REGEX = re.compile(
    r"\[(?P<entity_text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)"
    r"|\{(?P<entity_dict>[^}]+?)\}|\[(?P<list_entity_dicts>.*?)\])"
)
_INVALID_INTENT_CHARS = re.compile(r"[^0-9A-Za-z_-]+")


# --------------------------------------------------------------------------------------------
# Data conversion (pure Python, no Rasa): MTOD TSV -> Rasa NLU YAML
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


def rasa_intent_name(name: str) -> str:
    """A valid Rasa intent name for an MTOD label: ``weather/find`` -> ``weather__find``.

    ``/`` is reserved by Rasa for retrieval intents (``faq/ask_x``), so it becomes ``__``; any
    other character outside ``[0-9A-Za-z_-]`` (spaces, dots, accents…) becomes ``_``.
    """
    name = name.strip()
    if not name:
        raise ValueError("empty intent name")
    converted = "__".join(_INVALID_INTENT_CHARS.sub("_", part) for part in name.split("/"))
    if not converted.strip("_"):
        raise ValueError(f"intent name {name!r} has no usable character")
    return converted


def clean_text(text: str) -> str:
    """The utterance as one Rasa training example: one line, no entity markup.

    Whitespace runs (including newlines and tabs) collapse to one space, and square brackets
    that Rasa would parse as entity annotations (``[x](y)``) become parentheses.
    """
    text = " ".join(text.split())
    if RASA_ENTITY_REGEX.search(text):
        text = text.replace("[", "(").replace("]", ")")
    return text


def read_mtod_tsv(path: Path) -> list[Example]:
    """Examples of an MTOD TSV (intent, slots, utterance, language, tokenization JSON).

    Intent names are converted with :func:`rasa_intent_name`; utterances with :func:`clean_text`.
    Duplicates are kept (a test split is scored as published).
    """
    examples: list[Example] = []
    with open(path, encoding="utf-8", newline="") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            cols = line.split("\t")
            if len(cols) < 3:
                raise ValueError(f"{path}:{lineno}: expected >= 3 tab-separated columns")
            text = clean_text(cols[2])
            if not text:
                continue
            examples.append(Example(text=text, intent=rasa_intent_name(cols[0])))
    return examples


class _QuotedStr(str):
    """A string YAML must write double-quoted: never read back as a number, bool, date…"""


def _quoted_representer(dumper: yaml.SafeDumper, data: _QuotedStr) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style='"')


class _NluDumper(yaml.SafeDumper):
    pass


_NluDumper.add_representer(_QuotedStr, _quoted_representer)


def nlu_document(examples: Iterable[Example]) -> tuple[dict[str, Any], int]:
    """The Rasa NLU YAML document (as a dict) of ``examples`` and how many duplicates it dropped.

    Examples use the list form (``examples: [{text: …}]``), so every utterance is a YAML scalar
    of its own, quoted by the YAML library: no hand-made escaping. Intents are sorted; examples
    keep their first-seen order; exact duplicates are dropped (Rasa would drop them too).
    """
    by_intent: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    duplicates = 0
    for ex in examples:
        key = (ex.intent, ex.text)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        by_intent.setdefault(ex.intent, []).append(ex.text)
    doc = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": [{"text": _QuotedStr(t)} for t in texts]}
            for intent, texts in sorted(by_intent.items())
        ],
    }
    return doc, duplicates


def dump_nlu_yaml(examples: Iterable[Example]) -> tuple[str, int]:
    """Rasa NLU YAML text of ``examples`` and the number of duplicates dropped."""
    doc, duplicates = nlu_document(examples)
    text = yaml.dump(doc, Dumper=_NluDumper, allow_unicode=True, sort_keys=False, width=1_000_000)
    return text, duplicates


def write_nlu_yaml(examples: Iterable[Example], path: Path) -> dict[str, int]:
    """Write ``examples`` as Rasa NLU YAML; return counts (examples, duplicates, intents)."""
    examples = list(examples)
    text, duplicates = dump_nlu_yaml(examples)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return {
        "examples": len(examples) - duplicates,
        "duplicates_dropped": duplicates,
        "intents": len({e.intent for e in examples}),
    }


def _strip_entity_markup(text: str) -> str:
    return RASA_ENTITY_REGEX.sub(lambda m: m.group("entity_text"), text)


def parse_nlu_document(doc: Any) -> list[Example]:
    """Intent examples of a Rasa NLU YAML document, read the way Rasa 3.6 reads them.

    Both forms are understood: the ``examples: |`` block of ``- text`` lines and the list of
    ``{text: …}`` mappings. Entity markup is reduced to its plain text.
    """
    out: list[Example] = []
    for item in (doc or {}).get("nlu") or []:
        if not isinstance(item, dict) or not item.get("intent"):
            continue
        intent = str(item["intent"]).strip()
        raw = item.get("examples") or []
        if isinstance(raw, str):
            texts = [line[1:].strip("\n\r ") for line in raw.splitlines() if line.startswith("-")]
        else:
            texts = [str(e.get("text", "")).strip("\n\r ") for e in raw if isinstance(e, dict)]
        out.extend(Example(_strip_entity_markup(t), intent) for t in texts if t)
    return out


def read_rasa_nlu(path: Path) -> list[Example]:
    """Intent examples of a Rasa NLU YAML file, or of every ``*.yml``/``*.yaml`` under a folder."""
    files = (
        sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"})
        if path.is_dir()
        else [path]
    )
    examples: list[Example] = []
    for file in files:
        with open(file, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        if isinstance(doc, dict) and "nlu" in doc:
            examples.extend(parse_nlu_document(doc))
    return examples


def split_validation(
    examples: Sequence[Example], fraction: float, seed: int = 42
) -> tuple[list[Example], list[Example]]:
    """Stratified (train, validation) split; intents with < 2 examples stay in train."""
    from sklearn.model_selection import train_test_split

    counts = Counter(e.intent for e in examples)
    splittable = [e for e in examples if counts[e.intent] >= 2]
    kept = [e for e in examples if counts[e.intent] < 2]
    train, val = train_test_split(
        splittable,
        test_size=fraction,
        random_state=seed,
        stratify=[e.intent for e in splittable],
    )
    return list(train) + kept, list(val)


# --------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------


def score(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro/weighted F1 and the per-intent report over the labels of both lists.

    Same label set as ``rasa test nlu``'s intent report (sklearn's union of true and predicted).
    """
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    labels = sorted(set(y_true) | set(y_pred))
    report = classification_report(y_true, y_pred, labels=labels, output_dict=True, zero_division=0)
    per_intent = {
        label: {
            "precision": report[label]["precision"],
            "recall": report[label]["recall"],
            "f1": report[label]["f1-score"],
            "support": int(report[label]["support"]),
        }
        for label in labels
    }
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "macro_f1": f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0),
        "weighted_f1": f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0),
        "per_intent": per_intent,
    }


# --------------------------------------------------------------------------------------------
# Rasa subprocesses
# --------------------------------------------------------------------------------------------


class BenchError(RuntimeError):
    pass


def rasa_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def bench_rasa_env() -> dict[str, str]:
    """The Rasa processes' environment, with Rasa's training cache off (every time a cold one)."""
    env = rasa_env(get_settings())
    env["RASA_MAX_CACHE_SIZE"] = "0"
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


_EPOCHS = re.compile(r"Epochs:\s*\d+%\|[^|]*\|\s*(\d+)/(\d+)")


def _run(
    cmd: list[str], *, cwd: Path, log_path: Path, progress: Any, task: Any, label: str
) -> float:
    """Run ``cmd`` with its output in ``log_path``; show elapsed time and epochs; return seconds."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=bench_rasa_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            while proc.poll() is None:
                time.sleep(0.5)
                detail = ""
                try:
                    with open(log_path, "rb") as f:
                        f.seek(max(0, log_path.stat().st_size - 4000))
                        tail = f.read().decode("utf-8", "replace")
                    hits = _EPOCHS.findall(tail)
                    if hits:
                        detail = f" · epoch {hits[-1][0]}/{hits[-1][1]}"
                except OSError:
                    pass
                progress.update(task, description=f"{label}{detail}")
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise BenchError(f"{label} failed (exit {proc.returncode}); log {log_path}:\n{tail}")
    return seconds


def train_nlu(
    venv: Path,
    config: Path,
    nlu: Path,
    workdir: Path,
    name: str,
    log_dir: Path,
    progress: Any,
    label: str,
) -> tuple[Path, float]:
    """``rasa train nlu``; returns the model archive and the wall-clock training seconds."""
    task = progress.add_task(label, total=None)
    out = workdir / "models"
    cmd = [
        str(venv / "bin" / "rasa"),
        "train",
        "nlu",
        "--config",
        str(config),
        "--nlu",
        str(nlu),
        "--out",
        str(out),
        "--fixed-model-name",
        name,
    ]
    try:
        seconds = _run(
            cmd,
            cwd=workdir,
            log_path=log_dir / f"{name}.train.log",
            progress=progress,
            task=task,
            label=label,
        )
    finally:
        progress.remove_task(task)
    model = out / f"{name}.tar.gz"
    if not model.exists():
        raise BenchError(f"{label}: rasa train nlu wrote no {model}")
    progress.console.print(f"[green]✓[/] {label}: {seconds:.1f} s")
    return model, seconds


def predict(
    venv: Path,
    model: Path,
    texts: Sequence[str],
    workdir: Path,
    name: str,
    log_dir: Path,
    progress: Any,
    label: str,
) -> dict[str, Any]:
    """Predictions of ``model`` for ``texts`` (see rasa_predict.py), with timings."""
    texts_path = workdir / f"{name}.texts.json"
    out_path = workdir / f"{name}.predictions.json"
    texts_path.write_text(json.dumps(list(texts), ensure_ascii=False), encoding="utf-8")
    task = progress.add_task(label, total=None)
    try:
        wall = _run(
            [str(rasa_python(venv)), str(RASA_PREDICT), str(model), str(texts_path), str(out_path)],
            cwd=workdir,
            log_path=log_dir / f"{name}.predict.log",
            progress=progress,
            task=task,
            label=label,
        )
    finally:
        progress.remove_task(task)
    result = json.loads(out_path.read_text(encoding="utf-8"))
    result["wall_seconds"] = wall
    progress.console.print(
        f"[green]✓[/] {label}: {len(texts)} messages in {result['predict_seconds']:.1f} s"
    )
    return result


def evaluate(
    examples: Sequence[Example], prediction: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Scores and timing figures of a prediction run, and the list of its errors."""
    preds = prediction["predictions"]
    y_true = [e.intent for e in examples]
    y_pred = [p["intent"] or "None" for p in preds]
    figures = score(y_true, y_pred)
    ms = [p["ms"] for p in preds]
    n = len(preds)
    figures.update(
        {
            "n": n,
            "test_seconds": prediction["predict_seconds"],
            "load_seconds": prediction["load_seconds"],
            "utterances_per_second": n / prediction["predict_seconds"]
            if prediction["predict_seconds"]
            else 0.0,
            "ms_per_message_mean": sum(ms) / n if n else 0.0,
            "ms_per_message_p50": percentile(ms, 50),
            "ms_per_message_p95": percentile(ms, 95),
            "fallback_rate": sum(bool(p.get("fallback")) for p in preds) / n if n else 0.0,
        }
    )
    errors = [
        {
            "text": e.text,
            "intent": e.intent,
            "predicted": p["intent"],
            "confidence": p["confidence"],
            "ranking": p.get("ranking", []),
        }
        for e, p in zip(examples, preds, strict=True)
        if e.intent != p["intent"]
    ]
    return figures, errors


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


class Only(StrEnum):
    mtod = "mtod"
    project = "project"


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.1f} s"


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _rasa_version(venv: Path) -> str | None:
    meta = list((venv / "lib").glob("python3*/site-packages/rasa-*.dist-info/METADATA"))
    if not meta:
        return None
    for line in meta[0].read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return None


def _pipeline_names(config: Path) -> list[str]:
    doc = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return [str(c.get("name")) for c in doc.get("pipeline") or [] if isinstance(c, dict)]


def run_mtod(
    *,
    venv: Path,
    mtod_dir: Path,
    configs: dict[str, Path],
    validation: float,
    seed: int,
    workdir: Path,
    out: Path,
    progress: Any,
    keep_models: bool = False,
) -> dict[str, Any]:
    """Train every config of ``configs`` on MTOD train and score it on test (or validation)."""
    train = read_mtod_tsv(mtod_dir / "mtod_train-es.tsv")
    if validation > 0:
        train, test = split_validation(train, validation, seed)
        split = f"validation ({validation:.0%} of train, stratified, seed {seed})"
    else:
        test = read_mtod_tsv(mtod_dir / "mtod_test-es.tsv")
        split = "test"
    data_dir = workdir / "mtod"
    counts = write_nlu_yaml(train, data_dir / "nlu.yml")
    result: dict[str, Any] = {
        "dataset": "MTOD-es",
        "citation": MTOD_CITATION,
        "evaluated_on": split,
        "train": counts,
        "eval_examples": len(test),
        "rows": {},
    }
    for row, config in configs.items():
        name = f"mtod_{row}"
        model, train_seconds = train_nlu(
            venv,
            config,
            data_dir,
            workdir,
            name,
            out / "logs",
            progress,
            f"MTOD · training {row}",
        )
        prediction = predict(
            venv,
            model,
            [e.text for e in test],
            workdir,
            name,
            out / "logs",
            progress,
            f"MTOD · predicting {row}",
        )
        figures, errors = evaluate(test, prediction)
        figures.update(
            {
                "train_seconds": train_seconds,
                "config": str(config),
                "pipeline": _pipeline_names(config),
            }
        )
        result["rows"][row] = figures
        _write_json(out / f"{name}_errors.json", errors)
        if not keep_models:
            model.unlink(missing_ok=True)
    return result


def run_project(
    *,
    venv: Path,
    config: Path,
    nlu: Path,
    holdout: Path,
    workdir: Path,
    out: Path,
    progress: Any,
    keep_models: bool = False,
) -> dict[str, Any]:
    """Train ``config`` on the project's NLU data and score it on the held-out set."""
    test = read_rasa_nlu(holdout)
    train_examples = read_rasa_nlu(nlu)
    leaked = {e.text.casefold() for e in test} & {e.text.casefold() for e in train_examples}
    model, train_seconds = train_nlu(
        venv,
        config,
        nlu,
        workdir,
        "project",
        out / "logs",
        progress,
        "Project data · training project pipeline",
    )
    prediction = predict(
        venv,
        model,
        [e.text for e in test],
        workdir,
        "project",
        out / "logs",
        progress,
        "Project data · predicting holdout",
    )
    figures, errors = evaluate(test, prediction)
    figures.update(
        {
            "train_seconds": train_seconds,
            "config": str(config),
            "pipeline": _pipeline_names(config),
            "train_examples": len(train_examples),
            "train_intents": len({e.intent for e in train_examples}),
            "holdout": str(holdout),
            "holdout_texts_also_in_training": sorted(leaked),
        }
    )
    _write_json(out / "project_errors.json", errors)
    if not keep_models:
        model.unlink(missing_ok=True)
    return figures


def _mtod_table(result: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(
        title=f"MTOD-es intents · train {result['train']['examples']} · "
        f"{result['evaluated_on']} {result['eval_examples']}",
        caption=MTOD_CITATION,
        caption_justify="left",
    )
    for col in (
        "pipeline",
        "accuracy",
        "macro-F1",
        "weighted-F1",
        "training time",
        "test time",
        "utt/s",
        "ms/msg",
    ):
        table.add_column(col, justify="left" if col == "pipeline" else "right")
    for row, f in result["rows"].items():
        table.add_row(
            row,
            f"{f['accuracy']:.4f}",
            f"{f['macro_f1']:.4f}",
            f"{f['weighted_f1']:.4f}",
            _fmt_seconds(f["train_seconds"]),
            _fmt_seconds(f["test_seconds"]),
            f"{f['utterances_per_second']:.0f}",
            f"{f['ms_per_message_mean']:.1f}",
        )
    return table


def _project_table(f: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(
        title=f"Project pipeline · trained on nlu_data ({f['train_examples']} examples, "
        f"{f['train_intents']} intents) in {_fmt_seconds(f['train_seconds'])} · "
        f"scored on tests/nlu/holdout.yml",
        caption=f"accuracy {f['accuracy']:.4f} · macro-F1 {f['macro_f1']:.4f} · "
        f"weighted-F1 {f['weighted_f1']:.4f} · {f['ms_per_message_mean']:.1f} ms/msg "
        f"(p95 {f['ms_per_message_p95']:.1f}) · fallback rate {f['fallback_rate']:.1%}",
        caption_justify="left",
    )
    for col in ("intent", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "intent" else "right")
    for intent, m in f["per_intent"].items():
        style = None if m["f1"] >= 0.9 else "yellow"
        table.add_row(
            intent,
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            str(m["support"]),
            style=style,
        )
    return table


@bench_app.command("nlu")
def nlu(
    skip_baseline: Annotated[
        bool, typer.Option("--skip-baseline", help="Do not train Rasa's default pipeline.")
    ] = False,
    only: Annotated[
        Only | None,
        typer.Option("--only", help="Run only the MTOD benchmark or only the project-data one."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for results.json, error lists and logs (default var/bench/nlu)."
        ),
    ] = None,
    config: Annotated[
        Path,
        typer.Option(
            "--config", help="Pipeline measured as 'project'.", exists=True, dir_okay=False
        ),
    ] = PROJECT_CONFIG,
    validation: Annotated[
        float,
        typer.Option(
            "--validation",
            min=0.0,
            max=0.5,
            help="Score MTOD on this stratified fraction of its train split instead of its "
            "test split (to choose a pipeline without looking at test).",
        ),
    ] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the --validation split.")] = 42,
    mtod_dir: Annotated[
        Path,
        typer.Option("--mtod-dir", help="Folder with mtod_train-es.tsv and mtod_test-es.tsv."),
    ] = DEFAULT_MTOD_DIR,
    keep_workdir: Annotated[
        bool,
        typer.Option("--keep-workdir", help="Keep the work folder (data, models, predictions)."),
    ] = False,
) -> None:
    """Benchmark intent classification: baseline vs project pipeline on MTOD-es, then the
    project pipeline on the project's own data (per-intent scores on the held-out set)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console()
    if not console.is_terminal:  # CI, pipes: 80 columns would squeeze the table
        console = Console(width=max(console.width, 130))
    settings = get_settings()
    venv = Path(settings.rasa_venv)
    if not (venv / "bin" / "rasa").exists():
        console.print(f"[red]No Rasa at {venv}/bin/rasa[/] (set VENTANILLA_RASA_VENV).")
        raise typer.Exit(2)
    out = (out or Path(settings.var_dir) / "bench" / "nlu").resolve()
    out.mkdir(parents=True, exist_ok=True)
    config = config.resolve()

    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "rasa_version": _rasa_version(venv),
        "rasa_venv": str(venv),
        "notes": [
            "Training time: wall clock of `rasa train nlu` (process start to model written), "
            "training cache disabled.",
            "Test time: messages predicted one by one through Agent.parse_message after the "
            "model is loaded (load time apart); scores judge the classifier's top intent, as "
            "`rasa test nlu` does, even when the FallbackClassifier would answer nlu_fallback.",
        ],
    }
    workdir = Path(tempfile.mkdtemp(prefix="ventanilla-bench-nlu-"))
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    try:
        with progress:
            if only in (None, Only.mtod):
                configs = {} if skip_baseline else {"baseline": BASELINE_CONFIG}
                configs["project"] = config
                results["mtod"] = run_mtod(
                    venv=venv,
                    mtod_dir=mtod_dir,
                    configs=configs,
                    validation=validation,
                    seed=seed,
                    workdir=workdir,
                    out=out,
                    progress=progress,
                    keep_models=keep_workdir,
                )
                _write_json(out / "results.json", results)
            if only in (None, Only.project):
                results["project_data"] = run_project(
                    venv=venv,
                    config=config,
                    nlu=PROJECT_NLU,
                    holdout=PROJECT_HOLDOUT,
                    workdir=workdir,
                    out=out,
                    progress=progress,
                    keep_models=keep_workdir,
                )
                _write_json(out / "results.json", results)
    except BenchError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    finally:
        if keep_workdir:
            console.print(f"Work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    if "mtod" in results:
        console.print(_mtod_table(results["mtod"]))
    if "project_data" in results:
        console.print(_project_table(results["project_data"]))
        leaked = results["project_data"]["holdout_texts_also_in_training"]
        if leaked:
            console.print(
                f"[yellow]{len(leaked)} holdout texts also appear in nlu_data/: "
                f"{', '.join(leaked[:5])}[/]"
            )
    console.print(f"Results: {out / 'results.json'}")
