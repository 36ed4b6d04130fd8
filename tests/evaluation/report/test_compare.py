"""Ranking generators: competition ranks, direction of each column, frozen clips."""

from __future__ import annotations

import pytest

from spacetime.errors import SpacetimeError
from spacetime.evaluation.metrics import METRIC_NAMES
from spacetime.evaluation.report.compare import compare_generators, rank_values


def test_rank_values_lower_and_higher_is_better_with_ties() -> None:
    assert rank_values([3.0, 1.0, 2.0]) == [3, 1, 2]
    assert rank_values([3.0, 1.0, 2.0], higher_is_better=True) == [1, 3, 2]
    assert rank_values([1.0, 1.0, 2.0]) == [1, 1, 3]  # ties share the smaller rank
    assert rank_values([None, 0.5, float("nan")]) == [2, 1, 2]  # missing values rank last


def test_clean_generator_ranks_above_corrupted(make_report) -> None:
    clean = [make_report(f"c{i}.mp4", level=0.1) for i in range(2)]
    broken = [make_report(f"b{i}.mp4", level=0.9) for i in range(3)]
    comparison = compare_generators({"broken": broken, "clean": clean})
    first, second = comparison.generators
    assert (first.name, first.rank, second.name, second.rank) == ("clean", 1, "broken", 2)
    failure = [n for n in METRIC_NAMES if n != "dynamic_degree"]
    assert all(first.ranks[n] == 1 and second.ranks[n] == 2 for n in failure)
    # Mean over clips of the clip means: level * (7 + 5) / 8 transitions.
    assert first.means["flicker"] == pytest.approx(0.1 * 12 / 8)
    assert "dynamic_degree" not in comparison.columns and "frozen" in comparison.columns
    assert second.to_dict()["videos"] == 3 and len(second.to_dict()["entries"]) == 3


def test_frozen_generator_cannot_win_by_not_moving(make_report) -> None:
    # "still" has zero failures but does not move; "moving" has small failures.
    still = [make_report("s.mp4", level=0.0, motion=0.0)]
    moving = [make_report("m.mp4", level=0.01, motion=3.0)]
    comparison = compare_generators({"still": still, "moving": moving}, frozen_threshold=0.5)
    by_name = {g.name: g for g in comparison.generators}
    assert by_name["still"].means["frozen"] == 1.0 and by_name["moving"].means["frozen"] == 0.0
    assert by_name["still"].ranks["frozen"] == 2
    # Failure means are over moving clips only: none for "still", so it ranks last there too.
    assert by_name["still"].means["flicker"] is None
    assert by_name["moving"].means["flicker"] == pytest.approx(0.01 * 12 / 8)
    assert all(by_name["still"].ranks[c] == 2 for c in comparison.columns)
    assert (by_name["moving"].rank, by_name["still"].rank) == (1, 2)
    assert comparison.generators[0].name == "moving"


def test_frozen_clips_are_left_out_of_failure_means(make_report) -> None:
    reports = [
        make_report("m.mp4", level=0.2, motion=3.0),
        make_report("s.mp4", level=0.0, motion=0.0),
    ]
    (summary,) = compare_generators({"g": reports}, frozen_threshold=0.5).generators
    assert summary.means["frozen"] == 0.5
    assert summary.means["flicker"] == pytest.approx(0.2 * 12 / 8)  # the frozen clip's 0 ignored
    assert summary.means["dynamic_degree"] == pytest.approx(1.5)  # over every clip


def test_oracle_none_ranks_last(make_report) -> None:
    blank = {"adherence": 0.0, "teleport_rate": None, "physics": None}
    real = {"adherence": 1.0, "teleport_rate": 0.1, "physics": 0.8}
    comparison = compare_generators(
        {"blank": [make_report(oracle=blank)], "real": [make_report(oracle=real)]}
    )
    by_name = {g.name: g for g in comparison.generators}
    assert by_name["blank"].ranks["oracle.teleport_rate"] == 2
    assert by_name["blank"].ranks["oracle.physics"] == 2


def test_no_generator_is_an_error(make_report) -> None:
    with pytest.raises(SpacetimeError, match="no generator given"):
        compare_generators({})
    with pytest.raises(SpacetimeError, match="'empty' has no videos"):
        compare_generators({"empty": []})


def test_oracle_columns_directions_and_none(make_report) -> None:
    good = {"adherence": 0.9, "teleport_rate": 0.0, "occlusion_reappearance": None}
    bad = {"adherence": 0.4, "teleport_rate": 0.5, "occlusion_reappearance": None}
    comparison = compare_generators(
        {"a": [make_report(oracle=bad)], "b": [make_report(oracle=good)]}
    )
    by_name = {g.name: g for g in comparison.generators}
    assert by_name["b"].ranks["oracle.adherence"] == 1  # higher is better
    assert by_name["b"].ranks["oracle.teleport_rate"] == 1  # lower is better
    assert "oracle.occlusion_reappearance" not in comparison.columns  # no value anywhere
    assert by_name["a"].means["oracle.occlusion_reappearance"] is None
    # Tied on every metric column (rank 1 each), b wins both oracle columns.
    assert by_name["b"].rank == 1 and by_name["a"].rank == 2
    assert by_name["a"].score == pytest.approx(
        (len(comparison.columns) + 2) / len(comparison.columns)
    )
