"""Tests for spacetime.video.reader: decoding files and frame folders, options, bad inputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from spacetime.errors import SpacetimeError
from spacetime.video import (
    FOLDER_FPS,
    VideoError,
    list_videos,
    read_image,
    read_video,
    write_gif,
    write_mp4,
)

Index = Callable[[np.ndarray], list[int]]


def _save_png(path: Path, image: np.ndarray) -> None:
    """Write an RGB(A) or grey image with OpenCV (which expects BGR order)."""
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    assert cv2.imwrite(str(path), image)


# ------------------------------------------------------------------------- container options


def test_reads_every_frame_with_the_stream_rate(indexed_mp4: Path, frame_index: Index):
    video = read_video(indexed_mp4)
    assert video.frames.shape == (24, 32, 48, 3) and video.frames.dtype == np.uint8
    assert video.fps == pytest.approx(8.0)
    assert video.path == indexed_mp4
    assert frame_index(video.frames) == list(range(24))


def test_fps_resamples_by_timestamp(indexed_mp4: Path, frame_index: Index):
    half = read_video(indexed_mp4, fps=4)
    assert frame_index(half.frames) == list(range(0, 24, 2)) and half.fps == 4
    double = read_video(indexed_mp4, fps=16)
    assert frame_index(double.frames) == [i for i in range(24) for _ in range(2)]
    assert double.duration == pytest.approx(3.0)


def test_stride_max_frames_start_and_size(indexed_mp4: Path, frame_index: Index):
    strided = read_video(indexed_mp4, stride=5)
    assert frame_index(strided.frames) == [0, 5, 10, 15, 20] and strided.fps == pytest.approx(1.6)
    capped = read_video(indexed_mp4, max_frames=3)
    assert frame_index(capped.frames) == [0, 1, 2]
    later = read_video(indexed_mp4, start=1.5, max_frames=4)  # 1.5 s at 8 fps = frame 12
    assert frame_index(later.frames) == [12, 13, 14, 15]
    combined = read_video(indexed_mp4, fps=4, start=1.0, stride=2, max_frames=3)
    assert frame_index(combined.frames) == [8, 12, 16] and combined.fps == 2
    assert read_video(indexed_mp4, size=16).frames.shape == (24, 16, 16, 3)
    assert read_video(indexed_mp4, size=(10, 20), max_frames=2).frames.shape == (2, 10, 20, 3)


def test_reads_gif(tmp_path: Path, indexed_frames, frame_index: Index):
    path = write_gif(tmp_path / "c.gif", indexed_frames(10), fps=5.0)
    video = read_video(path, start=1.0)
    assert frame_index(video.frames) == list(range(5, 10))
    assert video.fps == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("fps", "expected"), [(8, list(range(16))), (4, list(range(0, 16, 2))), (2, [0, 4, 8, 12])]
)
def test_gif_resampling_keeps_the_duration(
    tmp_path: Path, indexed_frames, frame_index: Index, fps, expected
):
    # 16 frames at 8 fps = 2 s: fps=8/4/2 give 16/8/4 frames, as an mp4 does (no extra last).
    path = write_gif(tmp_path / "c.gif", indexed_frames(16), fps=8.0)
    assert frame_index(read_video(path, fps=fps).frames) == expected


def test_real_clip_yuv444(real_dir: Path):
    path = real_dir / "cockatoo.mp4"  # 1280x720, yuv444p, 20 fps
    video = read_video(path, max_frames=3, size=(72, 128))
    assert video.frames.shape == (3, 72, 128, 3)
    assert video.fps == pytest.approx(20.0)
    assert video.frames.std() > 10  # real content, not a blank frame
    later = read_video(path, start=5.0, max_frames=1, size=(72, 128))
    assert np.abs(later.frames[0].astype(int) - video.frames[0]).mean() > 1


def _encode(path: Path, codec: str, pix_fmt: str, image: np.ndarray, count: int = 3) -> Path:
    """A tiny lossless video of ``count`` copies of ``image`` (PyAV array format = pix_fmt)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=8)
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], pix_fmt
        for _ in range(count):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format=pix_fmt)))
        container.mux(stream.encode())
    return path


def test_grey_video_becomes_rgb(tmp_path: Path):
    grey = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1))  # (16, 16) ramp
    video = read_video(_encode(tmp_path / "grey.mkv", "ffv1", "gray", grey))
    assert video.frames.shape == (3, 16, 16, 3)
    np.testing.assert_array_equal(video.frames[1], np.repeat(grey[..., None], 3, axis=2))


def test_alpha_video_drops_alpha(tmp_path: Path):
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., :3] = (10, 200, 30)  # alpha 0: fully transparent, colour still kept
    video = read_video(_encode(tmp_path / "alpha.mov", "png", "rgba", rgba))
    assert video.frames.shape == (3, 16, 16, 3)
    assert np.all(video.frames == np.array([10, 200, 30], np.uint8))


# -------------------------------------------------------------------------------- frame folders


def test_frame_folder_is_sorted_naturally(tmp_path: Path, indexed_frames, frame_index: Index):
    frames = indexed_frames(12)
    for i, frame in enumerate(frames):
        _save_png(tmp_path / f"frame{i + 1}.png", frame)  # frame1 ... frame12
    (tmp_path / "notes.txt").write_text("not a frame")
    video = read_video(tmp_path)
    assert frame_index(video.frames) == list(range(12))  # 2 before 10
    assert video.fps == FOLDER_FPS
    assert read_video(tmp_path, fps=24, stride=3).fps == 8
    assert frame_index(read_video(tmp_path, fps=4, start=2.0).frames) == [8, 9, 10, 11]


def test_frame_folder_grey_and_alpha_become_rgb(tmp_path: Path):
    grey = np.full((8, 8), 77, np.uint8)
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3] = (10, 200, 30)  # fully transparent, yet the colour is kept
    jpeg = np.full((8, 8, 3), 150, np.uint8)
    _save_png(tmp_path / "0.png", grey)
    _save_png(tmp_path / "1.png", rgba)
    _save_png(tmp_path / "2.jpg", jpeg)
    video = read_video(tmp_path)
    assert video.frames.shape == (3, 8, 8, 3)
    np.testing.assert_array_equal(video.frames[0], np.full((8, 8, 3), 77))
    np.testing.assert_array_equal(video.frames[1, 0, 0], [10, 200, 30])
    assert np.abs(video.frames[2].astype(int) - 150).max() <= 2


def _exif_rotated_jpeg(path: Path) -> np.ndarray:
    """Save a 16x32 image as JPEG with EXIF Orientation 6 (display rotated 90 deg clockwise);
    returns the upright image a viewer shows, (32, 16, 3)."""
    stored = np.zeros((16, 32, 3), np.uint8)
    stored[:, 16:] = 255
    stored[:4] = (255, 0, 0)  # a red top band: tells a rotation from a flip
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    return np.rot90(stored, k=-1)


def test_exif_orientation_is_applied_to_images_and_frame_folders(tmp_path: Path):
    (tmp_path / "shots").mkdir()
    upright = _exif_rotated_jpeg(tmp_path / "shots" / "0.jpg")
    image = read_image(tmp_path / "shots" / "0.jpg")
    assert image.shape == (32, 16, 3) and np.abs(image.astype(int) - upright).mean() < 6
    assert np.array_equal(read_video(tmp_path / "shots").frames[0], image)


def test_frame_folder_with_different_sizes_is_an_error(tmp_path: Path):
    _save_png(tmp_path / "1.png", np.zeros((8, 8, 3), np.uint8))
    _save_png(tmp_path / "2.png", np.zeros((8, 10, 3), np.uint8))
    with pytest.raises(VideoError, match=r"2\.png is 10x8 but 1\.png is 8x8"):
        read_video(tmp_path)


def test_folder_errors(tmp_path: Path):
    with pytest.raises(VideoError, match="no frames") as info:
        read_video(tmp_path)
    assert str(tmp_path) in str(info.value)
    (tmp_path / "1.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(VideoError, match=r"1\.png: not a readable image"):
        read_video(tmp_path)


# ---------------------------------------------------------------------------------- bad inputs


def test_missing_file(tmp_path: Path):
    with pytest.raises(VideoError, match=r"nope\.mp4: no such file"):
        read_video(tmp_path / "nope.mp4")


def test_text_file_named_mp4(tmp_path: Path):
    path = tmp_path / "fake.mp4"
    path.write_text("this is not a video\n" * 20)
    with pytest.raises(VideoError, match=r"fake\.mp4: not a readable video"):
        read_video(path)


def test_truncated_mp4(tmp_path: Path, indexed_mp4: Path):
    data = indexed_mp4.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=r"cut\.mp4: (not a readable|corrupt)"):
        read_video(cut)


def test_container_without_frames(tmp_path: Path):
    path = tmp_path / "empty.mp4"
    with av.open(str(path), "w") as container:  # header and trailer, no frame
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        container.start_encoding()
    with pytest.raises(VideoError, match=r"empty\.mp4: (contains no video stream|no frames)"):
        read_video(path)


def test_start_past_the_end(indexed_mp4: Path, tmp_path: Path):
    with pytest.raises(VideoError, match="past the last frame"):
        read_video(indexed_mp4, start=10.0)
    _save_png(tmp_path / "0.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(VideoError, match="past the last frame"):
        read_video(tmp_path, start=1.0)


def test_bad_options(indexed_mp4: Path):
    with pytest.raises(SpacetimeError, match="stride"):
        read_video(indexed_mp4, stride=0)
    with pytest.raises(SpacetimeError, match="size"):
        read_video(indexed_mp4, size=(0, 4))


# --------------------------------------------------------------------------------- list_videos


def test_list_videos(tmp_path: Path, indexed_frames):
    frames = indexed_frames(2, 8, 8)
    for name in ("clip10.mp4", "clip2.mp4"):
        write_mp4(tmp_path / name, frames, fps=8)
    write_gif(tmp_path / "anim.gif", frames, fps=8)
    (tmp_path / "readme.txt").write_text("x")
    (tmp_path / "shots").mkdir()
    _save_png(tmp_path / "shots" / "0.png", frames[0])
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    write_mp4(tmp_path / "nested" / "deeper" / "inner.mp4", frames, fps=8)

    names = [p.name for p in list_videos(tmp_path)]
    assert names == ["anim.gif", "clip2.mp4", "clip10.mp4", "shots"]
    deep = [p.name for p in list_videos(tmp_path, recursive=True)]
    assert deep == ["anim.gif", "clip2.mp4", "clip10.mp4", "inner.mp4", "shots"]
    assert list_videos(tmp_path / "clip2.mp4") == [tmp_path / "clip2.mp4"]
    assert list_videos(tmp_path / "shots") == [tmp_path / "shots"]  # a frame folder is one video
    assert list_videos(tmp_path / "nested") == []
    with pytest.raises(VideoError, match=r"readme\.txt: not a video file"):
        list_videos(tmp_path / "readme.txt")
    with pytest.raises(VideoError, match="no such file"):
        list_videos(tmp_path / "missing")
