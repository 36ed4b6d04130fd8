"""Terminal tables: every clip and metric shown, oracle table only with captions."""

from __future__ import annotations

from spacetime.evaluation.report.compare import compare_generators
from spacetime.evaluation.report.table import (
    compare_table,
    eval_tables,
    format_value,
    render_text,
    short_names,
)


def test_format_value() -> None:
    assert format_value(None) == "–"
    assert format_value(0.123456) == "0.123"
    assert format_value(1234.5) == "1.23e+03"
    assert format_value(True) == "yes"


def test_eval_tables_rows_and_oracle(make_report) -> None:
    plain = make_report("plain.mp4", level=0.25)
    scored = make_report("scored.mp4", caption="a red circle", oracle={"adherence": 0.875})
    tables = eval_tables([plain])
    assert len(tables) == 1  # no oracle table without scored clips
    text = render_text(eval_tables([plain, scored]))
    assert "plain.mp4" in text and "scored.mp4" in text
    # Failure metrics show their worst transition (`plain` peaks at 1.25 on one transition),
    # so a one-frame failure is not averaged away; the mean would be 0.375.
    assert "1.25" in text and "0.375" not in text
    assert "adherence" in text and "0.875" in text
    # The motion column is in the table, and for it 0 is a freeze, not "no failure".
    assert "0 = no failure (motion: mean over transitions, 0 = frozen)" in " ".join(text.split())


def test_compare_table_orders_best_first(make_report) -> None:
    comparison = compare_generators(
        {"worse": [make_report(level=2.0)], "better": [make_report(level=1.0)]}
    )
    text = render_text([compare_table(comparison)], width=240)
    assert text.index("better") < text.index("worse")
    assert "(1)" in text and "(2)" in text


def test_short_names_are_the_shortest_unique_suffixes() -> None:
    assert short_names(["runs/a/samples", "runs/b/samples"]) == ["a/samples", "b/samples"]
    assert short_names(["x/one.mp4", "y/two.mp4"]) == ["one.mp4", "two.mp4"]
    assert short_names(["p/q/c.mp4", "r/q/c.mp4"]) == ["p/q/c.mp4", "r/q/c.mp4"]
