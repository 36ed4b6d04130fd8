"""Tests for spacetime.data.video_folder on real mp4 files written in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from spacetime.data.augment import TemporalAugment
from spacetime.data.clip_dataset import collate_clips
from spacetime.data.video_folder import VideoFolderDataset, probe_video
from spacetime.errors import SpacetimeError
from spacetime.video.writer import write_video


def _numbered(n: int, *, h: int = 24, w: int = 32) -> np.ndarray:
    """``n`` flat grey frames whose level encodes the frame index: 5 + 10 i."""
    levels = 5 + 10 * np.arange(n, dtype=np.uint8)
    return np.broadcast_to(levels[:, None, None, None], (n, h, w, 3)).copy()


def _indices(video: torch.Tensor) -> list[int]:
    """Frame indices read back from a (3, T, H, W) item of numbered frames."""
    levels = (video.mean(dim=(0, 2, 3)) + 1) * 127.5  # (T,)
    return [round((v - 5) / 10) for v in levels.tolist()]


def _folder(tmp_path: Path, lengths: dict[str, int], fps: float = 16.0) -> Path:
    for name, n in lengths.items():
        write_video(tmp_path / f"{name}.mp4", _numbered(n), fps)
        (tmp_path / f"{name}.txt").write_text(f"{name} moves left\n")
    return tmp_path


def test_items_have_the_contract_shape_range_and_caption(tmp_path: Path) -> None:
    data = VideoFolderDataset(_folder(tmp_path, {"a": 20, "b": 12}), frames=8, size=(16, 20))
    assert len(data) == 2
    item = data[1]
    assert item["video"].shape == (3, 8, 16, 20) and item["video"].dtype == torch.float32
    assert item["video"].min() >= -1.0 and item["video"].max() <= 1.0
    assert item["caption"] == "b moves left"
    assert _indices(item["video"]) == list(range(8))  # default: first frames, stride 1
    batch = collate_clips([data[0], data[1]])
    assert batch["video"].shape == (2, 3, 8, 16, 20) and batch["caption"][0] == "a moves left"


def test_jittered_strided_windows_are_valid_and_deterministic(tmp_path: Path) -> None:
    aug = TemporalAugment(jitter=True, strides=(1, 2))
    data = VideoFolderDataset(_folder(tmp_path, {"a": 20}), frames=6, size=16, augment=aug)
    seen = set()
    for seed in range(12):
        idx = _indices(data.item(0, seed)["video"])
        start, stride = idx[0], idx[1] - idx[0]
        assert stride in (1, 2) and idx == [start + stride * k for k in range(6)]
        assert idx[-1] < 20
        assert _indices(data.item(0, seed)["video"]) == idx  # same seed, same window
        seen.add((start, stride))
    assert len(seen) > 3  # the seed moves the window


def test_fps_resampling_halves_a_16fps_video(tmp_path: Path) -> None:
    root = _folder(tmp_path, {"a": 20})
    assert probe_video(root / "a.mp4", None) == (20, 16.0)
    assert probe_video(root / "a.mp4", 8.0) == (10, 8.0)
    data = VideoFolderDataset(root, frames=5, size=16, fps=8.0)
    assert _indices(data[0]["video"]) == [0, 2, 4, 6, 8]


def test_flip_mirrors_frames_and_caption_with_the_same_window(tmp_path: Path) -> None:
    frames = _numbered(10)
    frames[:, :, :8] = 255  # a white band on the left
    write_video(tmp_path / "x.mp4", frames, 8.0)
    (tmp_path / "x.txt").write_text("a band on the left")
    plain = VideoFolderDataset(tmp_path, 4, 16, augment=TemporalAugment(jitter=True))
    mirrored = VideoFolderDataset(tmp_path, 4, 16, augment=TemporalAugment(jitter=True, flip=1))
    a, b = plain.item(0, 3), mirrored.item(0, 3)
    assert b["caption"] == "a band on the right"
    assert torch.equal(b["video"], a["video"].flip(-1))
    assert a["video"][:, :, :, 0].mean() > 0.9 and b["video"][:, :, :, -1].mean() > 0.9


def test_unreadable_videos_are_skipped_with_one_warning(tmp_path: Path) -> None:
    root = _folder(tmp_path, {"good": 10})
    (root / "bad1.mp4").write_bytes(b"not a video at all")
    (root / "bad2.mov").write_bytes(b"")
    with pytest.warns(UserWarning, match=r"skipping 2 unreadable videos") as record:
        data = VideoFolderDataset(root, frames=4, size=16)
    message = next(str(w.message) for w in record if "unreadable" in str(w.message))
    assert "bad1.mp4" in message and "bad2.mov" in message
    assert [e.path.name for e in data.entries] == ["good.mp4"]


def test_fallback_for_a_file_broken_after_probing_is_deterministic(tmp_path: Path) -> None:
    aug = TemporalAugment(jitter=True, strides=(1, 2))
    root = _folder(tmp_path, {"a": 20, "b": 20})
    data = VideoFolderDataset(root, frames=4, size=16, augment=aug)
    other_worker = VideoFolderDataset(root, frames=4, size=16, augment=aug)
    (root / "a.mp4").write_bytes(b"broken after probing")
    with pytest.warns(UserWarning, match="a.mp4: decoding failed"):
        first = [_indices(data.item(0, seed)["video"]) for seed in range(8)]
    # Item 0 falls back to b.mp4; the same (index, seed) gives the same clip the second time,
    # when this worker already knows a.mp4 is broken, and in another worker that does not.
    assert [_indices(data.item(0, seed)["video"]) for seed in range(8)] == first
    with pytest.warns(UserWarning):
        assert _indices(other_worker.item(0, 3)["video"]) == first[3]
    assert len({tuple(w) for w in first}) > 2  # the seed still moves the fallback window


def test_short_videos_skip_pad_or_loop(tmp_path: Path) -> None:
    root = _folder(tmp_path, {"long": 12, "short": 5})
    with pytest.warns(UserWarning, match=r"skipping 1 short videos .*short\.mp4"):
        skipping = VideoFolderDataset(root, frames=8, size=16)
    assert [e.path.name for e in skipping.entries] == ["long.mp4"]
    padded = VideoFolderDataset(root, frames=8, size=16, short="pad")
    looped = VideoFolderDataset(root, frames=8, size=16, short="loop")
    assert _indices(padded[1]["video"]) == [0, 1, 2, 3, 4, 4, 4, 4]
    assert _indices(looped[1]["video"]) == [0, 1, 2, 3, 4, 0, 1, 2]
    usable = r"none of its 2 videos is usable.*short='pad'"
    with pytest.raises(SpacetimeError, match=usable), pytest.warns(UserWarning, match="short"):
        VideoFolderDataset(root, frames=30, size=16)


def test_manifest_and_missing_captions(tmp_path: Path) -> None:
    write_video(tmp_path / "clips" / "a.mp4", _numbered(6), 8.0)
    write_video(tmp_path / "clips" / "b.mp4", _numbered(6), 8.0)
    manifest = tmp_path / "list.jsonl"
    manifest.write_text(json.dumps({"file": "clips/b.mp4", "caption": "only b"}) + "\n")
    data = VideoFolderDataset(tmp_path, frames=4, size=8, manifest=manifest)
    assert len(data) == 1 and data[0]["caption"] == "only b"
    with pytest.warns(UserWarning, match="2 of 2 files .* no caption"):
        uncaptioned = VideoFolderDataset(tmp_path / "clips", frames=4, size=8)
    assert uncaptioned[0]["caption"] == ""


def test_bad_arguments_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match=rf"{tmp_path.name} has no files ending in"):
        VideoFolderDataset(tmp_path, frames=4, size=8)
    with pytest.raises(SpacetimeError, match="short must be one of"):
        VideoFolderDataset(tmp_path, frames=4, size=8, short="wrap")  # type: ignore[arg-type]
    with pytest.raises(SpacetimeError, match="frames must be >= 1"):
        VideoFolderDataset(tmp_path, frames=0, size=8)


def test_real_footage_is_cropped_to_square(real_dir: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "metadata.csv"
    manifest.write_text(
        f"file,caption\n{real_dir / 'armwrestling.mp4'},two people arm wrestling\n"
        f"{real_dir / 'realshort.mp4'},a plant\n"
    )
    data = VideoFolderDataset(
        tmp_path, frames=6, size=32, fps=10.0, augment=TemporalAugment.training()
    )
    assert [e.frames for e in data.entries] == [100, 11]  # 10 s and 1.199 s at 10 fps
    for index in range(2):
        item = data.item(index, seed=1)
        assert item["video"].shape == (3, 6, 32, 32)
        assert item["video"].std() > 0.05  # real content, not a padded blank
