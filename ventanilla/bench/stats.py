"""Summary statistics shared by the benchmarks."""

from __future__ import annotations

import os
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by the nearest-rank method: a value that was measured."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[min(len(ordered), int(rank)) - 1]


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator; None when the denominator is not positive (nothing measured)."""
    if denominator <= 0:
        return None
    return numerator / denominator


def format_ratio(value: float | None, goal: float | None = None) -> str:
    """A ratio as "1.07", with ✓ or ✗ against a goal (at most `goal`, judged on the printed
    figure, so a "1.10" never shows ✗ next to a goal of 1.10); "—" when there is none."""
    if value is None:
        return "—"
    text = f"{value:.2f}"
    if goal is not None:
        text += " ✓" if float(text) <= goal else " ✗"
    return text


def load_average() -> str:
    """The machine's load average (1, 5 and 15 minutes), as `uptime` shows it."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"
