"""Writing a ShapesWorld folder (mp4 + captions + ground truth)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spacetime.data.shapes import generate
from spacetime.data.shapes.export import clip_name, write_dataset
from spacetime.errors import SpacetimeError
from spacetime.video import read_video


def test_write_dataset_round_trip(tmp_path):
    paths = write_dataset(tmp_path / "ds", 3, seed=5, size=48, frames=6, progress=False)
    assert [p.name for p in paths] == [clip_name(i, 3) for i in range(3)]
    captions = [
        json.loads(line) for line in (tmp_path / "ds/captions.jsonl").read_text().splitlines()
    ]
    truth = [
        json.loads(line) for line in (tmp_path / "ds/ground_truth.jsonl").read_text().splitlines()
    ]
    assert [c["seed"] for c in captions] == [5, 6, 7]
    for c, g, path in zip(captions, truth, paths, strict=False):
        clip = generate(c["seed"], size=48, frames=6)
        assert c["file"] == g["file"] == path.name and c["caption"] == clip.caption
        assert g["per_frame"] == clip.ground_truth["per_frame"]
        video = read_video(path)
        assert video.frames.shape == (6, 48, 48, 3) and video.fps == pytest.approx(8.0)
        # Lossy but close: H.264 at crf 18 keeps the mean error to a few levels.
        err = np.abs(video.frames.astype(int) - clip.video.astype(int)).mean()
        assert err < 4.0


def test_write_dataset_rejects_bad_arguments(tmp_path):
    with pytest.raises(SpacetimeError, match="--n"):
        write_dataset(tmp_path, 0, progress=False)
    with pytest.raises(SpacetimeError, match="--seed"):
        write_dataset(tmp_path, 1, seed=-1, progress=False)
    with pytest.raises(SpacetimeError, match="size"):
        write_dataset(tmp_path, 1, size=20, progress=False)
    with pytest.raises(SpacetimeError, match="--size must be even"):
        write_dataset(tmp_path, 1, size=33, progress=False)
    with pytest.raises(SpacetimeError, match="--frames must be >= 2"):
        write_dataset(tmp_path, 1, frames=1, progress=False)
    with pytest.raises(SpacetimeError, match="--background"):
        write_dataset(tmp_path, 1, background="dots", progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(SpacetimeError, match="not a folder"):
        write_dataset(tmp_path / "file", 1, progress=False)
    with pytest.raises(SpacetimeError, match="file/x: cannot write there"):
        write_dataset(tmp_path / "file" / "x", 1, progress=False)
