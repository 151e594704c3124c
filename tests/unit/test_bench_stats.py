from ventanilla.bench.stats import format_ratio, percentile, ratio


def test_percentile_is_a_measured_value_by_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0, 3.0], 95) == 3.0
    assert percentile([], 95) == 0.0


def test_ratio_is_none_without_a_denominator() -> None:
    assert ratio(121.0, 100.0) == 1.21
    assert ratio(5.0, 0.0) is None


def test_format_ratio_marks_the_goal() -> None:
    assert format_ratio(1.1, 1.10) == "1.10 ✓"
    assert format_ratio(1.104, 1.10) == "1.10 ✓"
    assert format_ratio(1.32, 1.10) == "1.32 ✗"
    assert format_ratio(0.97) == "0.97"
    assert format_ratio(None, 1.10) == "—"
