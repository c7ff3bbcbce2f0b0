"""``bench.figures``: which of several floor/service pairs a frontend line reports."""

import pytest

from bench.figures import median_pair
from bench.loadgen import Throughput


def run(rps: float) -> Throughput:
    return Throughput(int(rps * 8), 8.0, 0, 10.0, 20.0, "wrk")


def test_the_pair_with_the_median_ratio_is_reported() -> None:
    # ratios 0.40, 0.60, 0.45: the median pair is the third, whatever the req/s alone say
    pairs = [(run(1000), run(400)), (run(500), run(300)), (run(800), run(360))]
    assert median_pair(pairs) == 2


def test_an_even_count_takes_the_lower_middle_pair() -> None:
    pairs = [(run(1000), run(500)), (run(1000), run(300)), (run(1000), run(700))]
    pairs.append((run(1000), run(400)))  # ratios 0.5, 0.3, 0.7, 0.4: 0.4 and 0.5 in the middle
    assert median_pair(pairs) == 3


def test_one_pair_is_its_own_median() -> None:
    assert median_pair([(run(900), run(450))]) == 0


def test_no_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="no pairs"):
        median_pair([])
