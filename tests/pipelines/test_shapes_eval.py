"""Tests for spacetime.pipelines.shapes_eval: ShapesWorld tasks, batched generation, scoring."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from helpers import tiny_pipeline
from spacetime.data.shapes import vocabulary
from spacetime.errors import SpacetimeError
from spacetime.evaluation.report import VideoReport
from spacetime.pipelines.shapes_eval import (
    ATTRIBUTES,
    HELD_OUT_SEED,
    ShapesTask,
    caption_task,
    generate_tasks,
    held_out_tasks,
    meets_target,
    score_clips,
    summarize,
)
from spacetime.pipelines.video_pipeline import VideoPipeline


@pytest.fixture(scope="module")
def pipe() -> VideoPipeline:
    return tiny_pipeline([" ".join(vocabulary())], frames=8, size=32)


def test_held_out_scenes_use_their_own_seeds() -> None:
    tasks = held_out_tasks(3, size=32, frames=8, mode="image")
    again = held_out_tasks(3, size=32, frames=8, first_seed=HELD_OUT_SEED + 1)
    assert [t.clip.seed for t in tasks] == [HELD_OUT_SEED + i for i in range(3)]
    assert [t.seed for t in tasks] == [0, 1, 2] and {t.mode for t in tasks} == {"image"}
    assert np.array_equal(tasks[1].clip.video, again[0].clip.video)  # same seed, same scene
    assert tasks[0].clip.video.shape == (8, 32, 32, 3)
    with pytest.raises(SpacetimeError, match="must be >= 1"):
        held_out_tasks(0)


def test_modes_give_the_ground_truth_frames() -> None:
    task = caption_task("one", "a red circle moves right", scene_seed=4, size=32, frames=8)
    assert task.caption == "a red circle moves right" and task.given_frames() is None
    first = dataclasses.replace(task, mode="image").given_frames()
    both = dataclasses.replace(task, mode="interpolate").given_frames()
    assert first is not None and list(first) == [0]
    assert both is not None and np.array_equal(both[-1], task.clip.video[-1])
    assert np.array_equal(both[0], task.clip.video[0])
    with pytest.raises(SpacetimeError, match="mode 'video' is not one of"):
        ShapesTask("bad", task.clip, "video")


def test_generation_batches_every_mode(pipe: VideoPipeline) -> None:
    tasks = [
        caption_task("t", "a blue square moves left", mode="text", seed=1, size=32, frames=8),
        caption_task("i", "a green circle moves up", mode="image", seed=2, size=32, frames=8),
        caption_task("p", "a red circle bounces", mode="interpolate", seed=3, size=32, frames=8),
    ]
    videos = generate_tasks(pipe, tasks, steps=1, progress=False)
    assert videos.shape == (3, 8, 32, 32, 3) and videos.dtype == np.uint8
    assert np.array_equal(videos[1, 0], tasks[1].clip.video[0])
    assert np.array_equal(videos[2, [0, -1]], tasks[2].clip.video[[0, -1]])
    assert not np.array_equal(videos[0, 0], tasks[0].clip.video[0])
    bigger = caption_task("b", "a red circle bounces", size=48, frames=8)
    with pytest.raises(SpacetimeError, match="share one clip shape"):
        generate_tasks(pipe, [tasks[0], bigger], steps=1, progress=False)


def test_ground_truth_scores_perfectly() -> None:
    tasks = [
        caption_task("a", "a large yellow square moves right", size=32, frames=8),
        caption_task("b", "a red circle moves down and a blue triangle stays still", size=32,
                     frames=8),
    ]  # fmt: skip
    reports = score_clips([t.clip.video for t in tasks], tasks, analysis_size=64)
    assert [r.video for r in reports] == ["a", "b"] and all(r.oracle for r in reports)
    summary = summarize(reports)
    assert summary["clips"] == 2 and summary["pillar_clips"] == 0
    assert summary["adherence"] == 1.0 and summary["teleport_rate"] == 0.0
    assert summary["identity_consistency"] == 1.0 and summary["occlusion_reappearance"] is None
    assert summary["metric/flicker"] == pytest.approx(
        np.mean([r.metrics["flicker"]["mean"] for r in reports])
    )
    with pytest.raises(SpacetimeError, match="2 videos for 1 tasks"):
        score_clips([t.clip.video for t in tasks], tasks[:1])


def _report(adherence: float, teleports: list[tuple[int, int]], occlusion: float | None):
    objects = [{"teleports": k, "transitions": n} for k, n in teleports]
    attributes = dict.fromkeys(ATTRIBUTES, adherence) | {"size": None, "pillar": occlusion}
    oracle = {
        "adherence": adherence, "teleport_rate": 0.5, "identity_consistency": 1.0,
        "occlusion_reappearance": occlusion, "physics": 1.0, "background_stability": 1.0,
        "attributes": attributes, "objects": objects,
    }  # fmt: skip
    metrics = {"flicker": {"mean": adherence}}
    return VideoReport("v", 8, 32, 32, 8.0, metrics, "a red circle bounces", oracle)


def test_summary_pools_teleports_and_averages_occlusion_over_pillar_clips() -> None:
    summary = summarize(
        [_report(1.0, [(1, 7), (0, 7)], None), _report(0.5, [(2, 6)], 0.0),
         _report(0.0, [(0, 4)], 1.0)]
    )  # fmt: skip
    assert summary["adherence"] == pytest.approx(0.5)
    assert summary["teleport_rate"] == pytest.approx(3 / 24)  # not the mean of 1/14, 2/6, 0
    assert summary["occlusion_reappearance"] == pytest.approx(0.5)
    assert summary["pillar_clips"] == 2 and summary["metric/flicker"] == pytest.approx(0.5)
    attributes = summary["attributes"]
    assert attributes["shape"] == pytest.approx(0.5) and attributes["size"] is None
    assert attributes["pillar"] == pytest.approx(0.5)  # over the clips with a pillar only
    by_objects = summary["by_objects"]  # one clip with two objects, two with one
    assert by_objects["2"]["clips"] == 1 and by_objects["2"]["adherence"] == 1.0
    assert by_objects["1"]["clips"] == 2 and by_objects["1"]["attributes"]["motion"] == 0.25
    assert meets_target("adherence", 0.9) and not meets_target("adherence", 0.89)
    assert meets_target("teleport_rate", 0.01) and not meets_target("teleport_rate", 0.02)
    assert meets_target("physics", 0.2) is None and meets_target("adherence", None) is None
    with pytest.raises(SpacetimeError, match="no report"):
        summarize([])
