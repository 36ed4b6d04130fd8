import json

import numpy as np
import pytest

from spacetime.errors import SpacetimeError
from spacetime.evaluation.metrics import METRIC_NAMES, MetricSeries, compute_metrics
from spacetime.evaluation.metrics.compute import run_metrics
from spacetime.evaluation.metrics.context import AnalysisClip


def test_names_are_the_design_names_in_order():
    assert METRIC_NAMES == (
        "flicker",
        "warp_error",
        "edge_shimmer",
        "background_swim",
        "identity_drift",
        "motion_smoothness",
        "teleport",
        "dynamic_degree",
    )


def test_a_perfectly_still_clip_scores_zero_everywhere(texture):
    frames = np.repeat(texture(48, 64)[None], 5, axis=0)
    out = compute_metrics(frames)
    assert list(out) == list(METRIC_NAMES)
    for name, series in out.items():
        assert isinstance(series, MetricSeries)
        assert series.per_frame.shape == (4,)
        assert series.max == pytest.approx(0.0, abs=1e-3), name


def test_report_is_json_serialisable_and_subsets_work(pan):
    out = compute_metrics(pan(frames=4, size=48), names=["teleport", "flicker"], analysis_size=32)
    assert list(out) == ["teleport", "flicker"]
    payload = json.loads(json.dumps({k: v.to_dict() for k, v in out.items()}))
    assert len(payload["flicker"]["per_frame"]) == 3


def test_user_mistakes_raise_spacetime_errors(pan):
    with pytest.raises(SpacetimeError, match="unknown metric"):
        compute_metrics(pan(frames=3, size=32), names=["flickr"])
    with pytest.raises(SpacetimeError, match="at least 2 frames"):
        compute_metrics(pan(frames=1, size=32))
    with pytest.raises(SpacetimeError, match="flow preset"):
        compute_metrics(pan(frames=3, size=32), flow_preset="turbo")


def test_metrics_in_threads_equal_the_sequential_run(pan):
    frames = pan(frames=8, size=64, step=(2, 1), seed=3)
    frames[4, 10:30, 30:50] = frames[4, 10:30, 10:30]  # something for every metric to see
    sequential = run_metrics(AnalysisClip(frames, analysis_size=None), METRIC_NAMES, workers=1)
    clip = AnalysisClip(frames, analysis_size=None)
    clip.flow.prefetch(workers=2)
    threaded = run_metrics(clip, METRIC_NAMES, workers=2)
    assert list(threaded) == list(METRIC_NAMES)
    for name in METRIC_NAMES:
        assert np.array_equal(threaded[name], sequential[name]), name
    assert threaded["teleport"].max() > 5.0
