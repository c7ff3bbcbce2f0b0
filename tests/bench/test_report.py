"""The benchmark's figures: throughput shown against the bare run made just before it."""

from bench.report import Figure


def test_a_figure_against_bare_is_judged_by_its_ratio() -> None:
    figure = Figure.against_bare("look-up", "sqlite", 3000.0, 6000.0, 0.5, note="best of 3")
    assert (figure.value, figure.unit, figure.ratio, figure.ratio_to) == (
        3000.0,
        "req/s",
        0.5,
        "bare",
    )
    assert (figure.judged, figure.met, figure.note) == (0.5, True, "best of 3")
    assert Figure.against_bare("look-up", "sqlite", 2900.0, 6000.0, 0.5).met is False


def test_a_figure_against_bare_may_be_judged_by_its_value() -> None:
    figure = Figure.against_bare("sync", "postgresql", 900.0, 6000.0, 1000, judge_value=True)
    assert figure.ratio == 0.15
    assert (figure.judged, figure.met) == (900.0, False)
    assert Figure.against_bare("peer", "memory", 100.0, 400.0).met is None
