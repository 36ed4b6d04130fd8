"""Tests for spacetime.data.image_folder on real PNG/JPEG files written in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from spacetime.data.clip_dataset import collate_clips
from spacetime.data.image_folder import ImageFolderDataset, read_image
from spacetime.errors import SpacetimeError


def _save(path: Path, pixels: np.ndarray, caption: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    if caption is not None:
        path.with_suffix(".txt").write_text(caption)


def test_images_become_one_frame_clips(tmp_path: Path) -> None:
    left_red = np.zeros((20, 30, 3), np.uint8)
    left_red[:, :15, 0] = 255
    _save(tmp_path / "a.png", left_red, "red on the left")
    _save(tmp_path / "b.jpg", np.full((40, 40, 3), 128, np.uint8), "grey")
    data = ImageFolderDataset(tmp_path, size=16)
    item = data[0]
    assert item["video"].shape == (3, 1, 16, 16) and item["caption"] == "red on the left"
    red = item["video"][0, 0]  # (H, W)
    assert red[:, :7].min() == 1.0 and red[:, 9:].max() == -1.0  # center crop keeps the split
    assert torch.allclose(data[1]["video"], torch.full((3, 1, 16, 16), 128 / 127.5 - 1), atol=1e-6)
    assert collate_clips([data[0], data[1]])["video"].shape == (2, 3, 1, 16, 16)


def test_flip_mirrors_image_and_caption_deterministically(tmp_path: Path) -> None:
    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[:, :4] = 255
    _save(tmp_path / "a.png", pixels, "white on the left")
    plain = ImageFolderDataset(tmp_path, 8)
    flipping = ImageFolderDataset(tmp_path, 8, flip=0.5)
    outcomes = {flipping.item(0, s)["caption"] for s in range(16)}
    assert outcomes == {"white on the left", "white on the right"}
    seed = next(s for s in range(16) if flipping.item(0, s)["caption"].endswith("right"))
    assert torch.equal(flipping.item(0, seed)["video"], plain[0]["video"].flip(-1))
    assert flipping.item(0, seed)["caption"] == flipping.item(0, seed)["caption"]


def test_grey_and_alpha_images_become_rgb(tmp_path: Path) -> None:
    Image.fromarray(np.full((4, 4), 200, np.uint8), mode="L").save(tmp_path / "g.png")
    Image.fromarray(np.full((4, 4, 4), 100, np.uint8), mode="RGBA").save(tmp_path / "r.png")
    assert read_image(tmp_path / "g.png").shape == (4, 4, 3)
    assert (read_image(tmp_path / "r.png") == 100).all()


def test_unreadable_images_are_skipped_with_one_warning(tmp_path: Path) -> None:
    _save(tmp_path / "ok.png", np.zeros((4, 4, 3), np.uint8), "ok")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.warns(UserWarning, match=r"skipping 2 unreadable images") as record:
        data = ImageFolderDataset(tmp_path, 4)
    assert len(data) == 1
    message = next(str(w.message) for w in record if "unreadable" in str(w.message))
    assert "broken.png" in message and "empty.jpg" in message
    (tmp_path / "ok.png").unlink()
    unreadable = "none of its images is readable"
    with pytest.raises(SpacetimeError, match=unreadable), pytest.warns(UserWarning):
        ImageFolderDataset(tmp_path, 4)
    with pytest.raises(SpacetimeError, match=r"broken\.png: not a readable image"):
        read_image(tmp_path / "broken.png")


def test_csv_manifest(tmp_path: Path) -> None:
    _save(tmp_path / "img" / "1.png", np.zeros((4, 4, 3), np.uint8))
    _save(tmp_path / "img" / "2.png", np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "metadata.csv").write_text('file,caption\nimg/2.png,"two, please"\n')
    data = ImageFolderDataset(tmp_path, 4)
    assert len(data) == 1 and data[0]["caption"] == "two, please"
    (tmp_path / "metadata.csv").unlink()
    (tmp_path / "m.jsonl").write_text(json.dumps({"file_name": "img/1.png", "text": "one"}))
    assert ImageFolderDataset(tmp_path, 4, manifest=tmp_path / "m.jsonl")[0]["caption"] == "one"


def test_empty_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match=rf"{tmp_path.name} has no files ending in"):
        ImageFolderDataset(tmp_path, 4)


def test_exif_rotated_jpeg_is_read_upright(tmp_path: Path) -> None:
    # Stored 16 high x 32 wide, left black / right white, EXIF Orientation 6 (rotate 90 deg
    # clockwise to display): upright it is 32 x 16 with black on top.
    stored = np.zeros((16, 32, 3), np.uint8)
    stored[:, 16:] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    assert read_image(tmp_path / "phone.jpg").shape == (32, 16, 3)
    with pytest.warns(UserWarning, match="no caption"):
        data = ImageFolderDataset(tmp_path, (32, 16))
    video = data[0]["video"]  # (3, 1, 32, 16) in [-1, 1]
    assert video.shape == (3, 1, 32, 16)
    assert video[:, 0, :12].mean() < -0.9 and video[:, 0, 20:].mean() > 0.9
