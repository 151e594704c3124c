"""Rank fusion and abstention thresholds: pure functions, no index, no model.

Two fusions of a dense and a lexical ranking of the same candidates:

* **Reciprocal-rank fusion** (Cormack et al. 2009): ``Σ w_i / (k + rank_i)``; only ranks
  matter, so scores on different scales need no calibration.
* **Min-max weighted sum**: each side's scores are rescaled to [0, 1] over the candidates
  (best → 1, worst → 0) and summed as ``w · dense + (1 − w) · lexical``. Keeps how far apart
  the candidates are, which ranks alone lose.

The default (``DEFAULT_FUSION``) was chosen on data other than XQuAD — see ``DEFAULT_FUSION``
and the knowledge-base benchmark (``ventanilla bench kb``).

``choose_threshold`` picks the confidence below which the bot should abstain, from labelled
held-out queries.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np

__all__ = [
    "DEFAULT_FUSION",
    "FusionParams",
    "ThresholdChoice",
    "choose_threshold",
    "fuse",
    "minmax",
    "rank_positions",
    "rrf",
    "threshold_metrics",
    "weighted_sum",
]

K = TypeVar("K", bound=Hashable)
FusionMethod = Literal["rrf", "minmax"]


@dataclass(frozen=True)
class FusionParams:
    """How to fuse: ``method`` and its parameters (``weight`` is the dense side's share)."""

    method: FusionMethod = "minmax"
    weight: float = 0.5  # minmax: w · dense + (1 − w) · lexical; rrf: weights (w, 1 − w) · 2
    rrf_k: float = 60.0

    def __post_init__(self) -> None:
        if self.method not in ("rrf", "minmax"):
            raise ValueError(f"unknown fusion method {self.method!r}; use 'rrf' or 'minmax'")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError("fusion weight must be between 0 and 1")
        if self.rrf_k < 0:
            raise ValueError("rrf_k must be >= 0")

    def describe(self) -> str:
        if self.method == "rrf":
            return f"RRF k={self.rrf_k:g}, peso denso {self.weight:.2f}"
        return f"min-max, peso denso {self.weight:.2f}"


# Chosen without XQuAD (`ventanilla bench kb`, tuning part): on the project's own articles
# (123 articles, 528 queries: one question variant per article held out, the others indexed)
# and on the Spanish GNOME help (285 topic pages; each page's one-line description → the page),
# the min-max weighted sum beat RRF (k = 10–100) at every dense weight from 0.50 to 0.90 by
# mean MRR. Its best weights form a plateau, 0.60–0.75 (mean MRR 0.802–0.805; R@1 articles
# 0.627–0.633, GNOME 0.779–0.800); 0.70 was the grid's best. On XQuAD-es (never used to
# choose) it gives R@1 0.960 / MRR 0.976, against dense 0.918 and BM25 0.925.
DEFAULT_FUSION = FusionParams(method="minmax", weight=0.7, rrf_k=60.0)


def rank_positions(scores: Mapping[K, float]) -> dict[K, int]:
    """1-based rank of each key by descending score; ties keep the mapping's order."""
    ordered = sorted(scores, key=lambda key: -scores[key])
    return {key: i + 1 for i, key in enumerate(ordered)}


def rrf(
    rankings: Sequence[Sequence[K]], k: float = 60.0, weights: Sequence[float] | None = None
) -> dict[K, float]:
    """Reciprocal-rank fusion of ranked lists (best first): ``Σ_i w_i / (k + rank_i)``.

    A key absent from a list gets nothing from it. Weights default to 1 each.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    fused: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for position, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + position)
    return fused


def minmax(scores: Mapping[K, float]) -> dict[K, float]:
    """Scores rescaled to [0, 1]: the best → 1, the worst → 0; all equal → all 1."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low <= 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def weighted_sum(
    dense: Mapping[K, float], lexical: Mapping[K, float], weight: float = 0.5
) -> dict[K, float]:
    """``w · minmax(dense) + (1 − w) · minmax(lexical)`` over the union of keys.

    A key missing on one side counts as that side's worst (0 after rescaling).
    """
    d, lex = minmax(dense), minmax(lexical)
    keys = list(dict.fromkeys([*dense, *lexical]))
    return {key: weight * d.get(key, 0.0) + (1.0 - weight) * lex.get(key, 0.0) for key in keys}


def fuse(
    dense: Mapping[K, float], lexical: Mapping[K, float], params: FusionParams = DEFAULT_FUSION
) -> dict[K, float]:
    """Fused score per candidate from each side's scores, by ``params.method``."""
    if params.method == "rrf":
        # Weights scaled so that 0.5 / 0.5 is plain RRF (1 and 1).
        return rrf(
            [_ranked(dense), _ranked(lexical)],
            k=params.rrf_k,
            weights=[2.0 * params.weight, 2.0 * (1.0 - params.weight)],
        )
    return weighted_sum(dense, lexical, params.weight)


def _ranked(scores: Mapping[K, float]) -> list[K]:
    return sorted(scores, key=lambda key: -scores[key])


@dataclass(frozen=True)
class ThresholdChoice:
    """A confidence threshold and how it does on the queries it was chosen on.

    Answer when ``confidence >= threshold``; otherwise abstain (say "no sé", hand over, …).
    ``precision``/``recall``/``f1`` treat "answered and the answer is right" as the positive
    class; ``accuracy`` counts right answers plus abstentions on queries without a right answer.
    """

    threshold: float
    f1: float
    accuracy: float
    precision: float
    recall: float
    answered: float  # share of queries answered


def threshold_metrics(
    scores: Sequence[float], correct: Sequence[bool], threshold: float
) -> ThresholdChoice:
    """How answering when ``score >= threshold`` does on labelled queries.

    ``correct[i]`` is True when the top hit of query ``i`` is a right answer; False when it is
    wrong or when the query has no answer in the knowledge base (the bot should abstain).
    """
    if len(scores) != len(correct):
        raise ValueError("one label per score")
    n = len(scores)
    tp = fp = fn = tn = 0
    for score, ok in zip(scores, correct, strict=True):
        answered = score >= threshold
        if answered and ok:
            tp += 1
        elif answered:
            fp += 1
        elif ok:
            fn += 1
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ThresholdChoice(
        threshold=threshold,
        f1=f1,
        accuracy=(tp + tn) / n if n else 0.0,
        precision=precision,
        recall=recall,
        answered=(tp + fp) / n if n else 0.0,
    )


def choose_threshold(
    scores: Sequence[float],
    correct: Sequence[bool],
    objective: Literal["f1", "accuracy"] = "f1",
) -> ThresholdChoice:
    """The threshold that maximizes ``objective`` on labelled held-out queries.

    Candidates are midpoints between consecutive distinct scores, plus one below all (answer
    everything) and one above all (abstain always). Ties go to the higher threshold (answer
    less when it costs nothing). Raises ValueError on empty input.
    """
    if not scores:
        raise ValueError("choose_threshold needs at least one labelled query")
    if objective not in ("f1", "accuracy"):
        raise ValueError("objective must be 'f1' or 'accuracy'")
    values = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(correct, dtype=bool)
    if len(values) != len(labels):
        raise ValueError("one label per score")
    distinct = np.unique(values)
    candidates = np.concatenate(
        [
            [distinct[0] - 1e-6],
            (distinct[:-1] + distinct[1:]) / 2,
            [np.nextafter(distinct[-1], np.inf)],
        ]
    )
    # Sweep all candidates at once: sort the scores, count right answers above each threshold.
    order = np.argsort(values, kind="stable")
    ascending, right = values[order], labels[order]
    right_below = np.concatenate([[0], np.cumsum(right)])  # right answers among the i lowest
    n, n_right = len(values), int(right.sum())
    below = np.searchsorted(ascending, candidates, side="left")
    answered = n - below
    tp = n_right - right_below[below]
    tn = below - right_below[below]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(answered > 0, tp / np.maximum(answered, 1), 1.0)
        recall = np.where(n_right > 0, tp / max(n_right, 1), 1.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    accuracy = (tp + tn) / n
    objective_values = f1 if objective == "f1" else accuracy
    # Ties go to the higher threshold: the last best in ascending order.
    best = len(candidates) - 1 - int(np.argmax(objective_values[::-1] >= objective_values.max()))
    return threshold_metrics(scores, correct, float(candidates[best]))
