import json

import numpy as np
import pytest

from spacetime.evaluation.metrics import MetricSeries


def test_summaries_keep_a_one_frame_failure_visible():
    values = np.array([0.0, 0.0, 5.0, 0.0, 1.0])
    series = MetricSeries(values)
    assert series.mean == pytest.approx(1.2)
    assert series.max == 5.0
    assert series.worst_frame == 2
    assert series.p95 == pytest.approx(np.percentile(values, 95))
    assert series.p95 > 3.0 > series.mean


def test_to_dict_is_json_ready_with_the_design_keys():
    out = MetricSeries(np.array([0.5, 2.0], np.float32)).to_dict()
    assert list(out) == ["mean", "p95", "max", "worst_frame", "per_frame"]
    assert isinstance(out["worst_frame"], int) and out["worst_frame"] == 1
    assert all(type(v) is float for v in out["per_frame"])
    assert json.loads(json.dumps(out)) == out


def test_rejects_non_finite_values():
    with pytest.raises(AssertionError):
        MetricSeries(np.array([0.0, np.nan]))
