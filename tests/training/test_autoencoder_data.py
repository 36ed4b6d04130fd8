"""The autoencoder's frame pool: ShapesWorld or folder data, held-out clips, seeded crop batches."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from spacetime.contracts.pixels import to_model_range
from spacetime.data import shapes
from spacetime.data.shapes_dataset import ShapesDataset
from spacetime.data.transforms import resize_center_crop
from spacetime.errors import SpacetimeError, SpacetimeWarning
from spacetime.training.autoencoder_config import load_autoencoder_config
from spacetime.training.autoencoder_data import FramePool
from spacetime.training.seeding import derive_seed
from spacetime.video import read_video, write_mp4

# 32x32 ShapesWorld clips of 4 frames, 16x16 crops.
TINY = [
    "size=32", "clip_frames=4", "crop=16", "train_clips=8", "eval_clips=2", "scaling_clips=2",
    "batch_size=8", "optim.warmup_steps=5", "optim.lr=5e-3", "progress=false",
]  # fmt: skip


@pytest.fixture(scope="module")
def pool() -> FramePool:
    return FramePool.build(load_autoencoder_config(None, TINY))


def test_frame_pool_batches_are_seeded_crops() -> None:
    pool = FramePool.build(load_autoencoder_config(None, TINY))
    assert pool.train.shape == (8, 4, 3, 32, 32) and pool.train.dtype == torch.uint8
    assert len(pool.heldout) == 2 and pool.heldout[0].shape == (3, 4, 32, 32)
    a = pool.batch(torch.Generator().manual_seed(5), 6, 16)
    b = pool.batch(torch.Generator().manual_seed(5), 6, 16)
    assert a.shape == (6, 3, 16, 16) and torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1
    whole = pool.batch(torch.Generator().manual_seed(5), 6, 0)
    assert whole.shape == (6, 3, 32, 32)
    # Held-out clips are other scenes than the training clips.
    train = pool.train.permute(0, 2, 1, 3, 4).float().div(127.5).sub(1)
    assert all(not torch.allclose(h, t) for h in pool.heldout for t in train)


def test_folder_data_holds_out_whole_videos(tmp_path: Path) -> None:
    for i in range(3):
        write_mp4(tmp_path / f"clip{i}.mp4", shapes.generate(i, size=32, frames=6).video, 8.0)
    config = load_autoencoder_config(None, [*TINY, f"data={tmp_path}"])
    pool = FramePool.build(config)
    assert pool.train.shape == (12, 1, 3, 32, 32)  # 2 videos x 6 frames, one frame per entry
    assert len(pool.heldout) == 1 and pool.heldout[0].shape == (3, 4, 32, 32)
    missing = load_autoencoder_config(None, [*TINY, f"data={tmp_path / 'nope'}"])
    with pytest.raises(SpacetimeError, match="no such file or folder"):
        FramePool.build(missing)


def test_every_batch_frame_is_a_window_of_a_pool_frame_in_8_bit_steps(pool: FramePool) -> None:
    batch = pool.batch(torch.Generator().manual_seed(1), 5, 16)  # (5, 3, 16, 16)
    levels = (batch.double() + 1) * 127.5
    torch.testing.assert_close(levels, levels.round(), rtol=0, atol=1e-4)  # x / 127.5 - 1
    frames = pool.train.flatten(0, 1).double()  # (N * T, 3, 32, 32)
    windows = frames.unfold(2, 16, 1).unfold(3, 16, 1)  # (N * T, 3, 17, 17, 16, 16)
    for crop in levels.round():
        equal = (windows == crop[None, :, None, None]).all(-1).all(-1).all(1)  # (N*T, 17, 17)
        assert equal.any()
    other = pool.batch(torch.Generator().manual_seed(2), 5, 16)
    assert not torch.equal(batch, other)  # the generator decides the draw
    # A crop of the frame size (or 0) is the whole frame.
    torch.testing.assert_close(
        pool.batch(torch.Generator().manual_seed(1), 5, 32),
        pool.batch(torch.Generator().manual_seed(1), 5, 0), rtol=0, atol=0,
    )  # fmt: skip


def test_heldout_shapes_clips_are_the_same_for_every_run_seed(pool: FramePool) -> None:
    other = FramePool.build(load_autoencoder_config(None, [*TINY, "seed=1"]))
    assert all(torch.equal(a, b) for a, b in zip(pool.heldout, other.heldout, strict=True))
    assert not torch.equal(pool.train, other.train)  # the training clips follow the seed
    # The training clips are rendered from (seed, "autoencoder-train"), kept as 8-bit pixels.
    rendered = ShapesDataset(32, 4, 8, derive_seed(0, "autoencoder-train"))
    for i in (0, 7):
        pixels = ((rendered[i]["video"] + 1) * 127.5).round()  # (3, T, H, W)
        assert torch.equal(pool.train[i].permute(1, 0, 2, 3).float(), pixels)


def test_one_video_holds_out_its_tail(tmp_path: Path) -> None:
    video = shapes.generate(4, size=40, frames=12).video  # resized to 32 px on reading
    write_mp4(tmp_path / "only.mp4", video, 8.0)
    pool = FramePool.build(load_autoencoder_config(None, [*TINY, f"data={tmp_path}"]))
    # 12 frames, clip_frames 4: the last min(4, 12 // 4) = 3 frames are held out.
    assert pool.train.shape == (9, 1, 3, 32, 32) and len(pool.heldout) == 1
    frames = resize_center_crop(read_video(tmp_path / "only.mp4").frames, 32)
    expected = to_model_range(frames)  # (3, 12, 32, 32)
    torch.testing.assert_close(pool.heldout[0], expected[:, 9:], rtol=0, atol=0)
    train = pool.train[:, 0].permute(1, 0, 2, 3)  # (3, 9, 32, 32) uint8
    assert torch.equal(train, torch.from_numpy(frames[:9]).permute(3, 0, 1, 2))
    capped = load_autoencoder_config(None, [*TINY, f"data={tmp_path}", "frames_per_video=8"])
    assert FramePool.build(capped).train.shape[0] == 6  # 8 frames read, the last 2 held out


def test_folders_without_usable_videos_are_refused(tmp_path: Path) -> None:
    def build(folder: Path) -> FramePool:
        return FramePool.build(load_autoencoder_config(None, [*TINY, f"data={folder}"]))

    (tmp_path / "empty").mkdir()
    with pytest.raises(SpacetimeError, match=r"empty: no videos or frame folders found"):
        build(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    with (
        pytest.warns(SpacetimeWarning, match=r"skipping 1 unreadable videos"),
        pytest.raises(SpacetimeError, match=r"none of its 1 videos can be decoded"),
    ):
        build(bad)
    one = tmp_path / "one"
    one.mkdir()
    write_mp4(one / "still.mp4", shapes.generate(0, size=32, frames=1).video, 8.0)
    with pytest.raises(SpacetimeError, match="one frame is too little to hold any out"):
        build(one)
    # A broken file among good ones is skipped with a warning, the rest is used.
    write_mp4(bad / "good.mp4", shapes.generate(1, size=32, frames=8).video, 8.0)
    with pytest.warns(SpacetimeWarning, match=r"broken\.mp4"):
        assert build(bad).train.shape == (6, 1, 3, 32, 32)  # 8 frames, the last 2 held out
