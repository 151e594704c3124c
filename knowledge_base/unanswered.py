"""Unanswered questions grouped by meaning, so editors see what people keep asking.

Greedy grouping by cosine similarity of the questions' embeddings: each question joins the
first group whose first question is at least `threshold` similar, else starts a group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_THRESHOLD = 0.88


def group(vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Indices of `vectors` (unit rows) in groups, the largest first; ties keep first-seen order."""
    groups: list[list[int]] = []
    heads: list[np.ndarray] = []
    for i, vector in enumerate(vectors):
        similarities = [float(vector @ head) for head in heads]
        best = int(np.argmax(similarities)) if similarities else -1
        if best >= 0 and similarities[best] >= threshold:
            groups[best].append(i)
        else:
            groups.append([i])
            heads.append(vector)
    return sorted(groups, key=len, reverse=True)


def representative(texts: Sequence[str], members: Sequence[int]) -> str:
    """The group's first question (the one the group formed around)."""
    return texts[members[0]]
