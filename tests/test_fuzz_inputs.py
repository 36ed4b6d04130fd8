"""Awkward inputs fed to every command that reads them (corpus: ``tests/fuzz_media.py``).

Each case ends in one of two ways: the command works (an odd but valid file), or it stops
with ONE line ``spacetime: error: FILE: what was wrong / what was expected`` and exit 2 — or,
where a dataset has other good files, skips the bad one with one ``spacetime: warning:`` line.
Never a traceback, never a hang (every command here is bounded by tiny files and 1 step).
"""

from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from fuzz_media import bad_images, bad_videos, encode, odd_images, odd_videos, pattern, write_image
from helpers import run_cli, tiny_pipeline
from spacetime.video import VideoError, read_video

PROMPT = "a red square moves right"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """Every file of the corpus, generated once for this module."""
    root = tmp_path_factory.mktemp("fuzz")
    return {
        "bad": bad_videos(root / "bad"),
        "odd": odd_videos(root / "odd"),
        "bad_images": bad_images(root / "bad_images"),
        "odd_images": odd_images(root / "odd_images"),
    }


def one_line_error(code: int, err: str, *names: str) -> None:
    """Exit 2 with exactly one line ``spacetime: error: ...`` that contains every name."""
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("spacetime: error: ")]
    assert code == 2 and len(errors) == 1, err
    assert all(name in errors[0] for name in names), (names, errors[0])
    assert "Traceback" not in err


def good_folder(folder: Path, count: int = 2) -> Path:
    """``count`` captioned 8-frame 32x32 clips."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        encode(folder / f"good{i}.mp4", pattern(8, 32, 32, seed=i))
        (folder / f"good{i}.txt").write_text(PROMPT)
    return folder


# ------------------------------------------------------------------------- the reader itself

BAD = ["empty", "truncated", "text", "random_bytes", "audio_only"]


@pytest.mark.parametrize("case", BAD)
def test_reader_names_the_file_and_the_problem(corpus, case: str) -> None:
    path = corpus["bad"][case]
    expected = "no video stream" if case == "audio_only" else "not a readable video"
    with pytest.raises(VideoError, match=expected) as info:
        read_video(path)
    assert info.value.path == path and str(path) in str(info.value)


def test_odd_videos_decode_as_players_show_them(corpus) -> None:
    odd = corpus["odd"]
    shapes = {case: read_video(path).frames.shape for case, path in odd.items() if case != "uhd_4k"}
    assert shapes == {
        "one_frame": (1, 32, 32, 3), "two_frames": (2, 32, 32, 3), "tiny_8x8": (4, 8, 8, 3),
        "line_1x4000": (3, 1, 4000, 3), "odd_33x17": (4, 17, 33, 3), "gray": (4, 32, 32, 3),
        "ten_bit": (4, 32, 32, 3), "variable_rate": (6, 32, 32, 3),
        "rotated_90": (4, 32, 16, 3),  # stored 32 wide, 16 high; shown turned 90 deg
    }  # fmt: skip
    gray = read_video(odd["gray"]).frames
    assert np.array_equal(gray[..., 0], gray[..., 1]) and np.array_equal(gray[..., 0], gray[..., 2])
    # 10-bit decodes to the same picture as 8-bit (within chroma rounding)
    ten = read_video(odd["ten_bit"]).frames.astype(int)
    assert np.abs(ten - pattern(4, 32, 32)).mean() < 3
    # Rotated counterclockwise: the square that moves right along the stored top edge is
    # shown on the left edge, moving up from the bottom.
    rotated = read_video(odd["rotated_90"]).frames
    rows = [np.nonzero(frame[:, :6, 0].max(axis=1) > 180)[0] for frame in rotated]
    assert all(len(r) for r in rows) and rows[0].max() == 31 and rows[1].mean() < rows[0].mean()
    # Variable frame rate: every frame kept, timestamps not assumed regular.
    assert read_video(odd["variable_rate"], fps=8).frames.shape[0] >= 6


def test_4k_is_decoded_downscaled_with_bounded_memory(corpus) -> None:
    path = corpus["odd"]["uhd_4k"]  # 3 frames of 3840x2160: 24.9 MB each as RGB
    frame_bytes = 3840 * 2160 * 3
    tracemalloc.start()
    try:
        small = read_video(path, size=(90, 160))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert small.frames.shape == (3, 90, 160, 3)
    assert peak < 1.5 * frame_bytes, peak  # one full frame at a time, never the clip
    with pytest.raises(VideoError, match=r"too large to hold: 2 frames of 3840x2160") as info:
        read_video(path, max_bytes=int(1.5 * frame_bytes))
    assert str(path) in str(info.value) and "--size" in str(info.value)


# ------------------------------------------------------------------------------ eval, compare


@pytest.mark.parametrize("case", BAD)
def test_eval_and_compare_refuse_bad_files(corpus, tmp_path: Path, case: str, capsys) -> None:
    path = corpus["bad"][case]
    one_line_error(*run_cli(["eval", str(path)], capsys)[::2], str(path))
    generator = good_folder(tmp_path / "gen", count=1)
    shutil.copy(path, generator / path.name)
    other = good_folder(tmp_path / "other", count=1)
    code, _, err = run_cli(["compare", str(other), str(generator)], capsys)
    one_line_error(code, err, str(generator / path.name))


@pytest.mark.slow
def test_eval_on_odd_videos(corpus, tmp_path: Path, capsys) -> None:
    odd = corpus["odd"]
    works = ["two_frames", "odd_33x17", "gray", "ten_bit", "variable_rate", "rotated_90"]
    report = tmp_path / "report.json"
    code, _, err = run_cli(["eval", *(str(odd[c]) for c in works), "--json", str(report)], capsys)
    assert code == 0, err
    entries = {Path(e["video"]).stem: e for e in json.loads(report.read_text())["videos"]}
    assert (entries["rotated_90"]["height"], entries["rotated_90"]["width"]) == (32, 16)
    assert entries["variable_rate"]["frames"] == 6 and entries["two_frames"]["frames"] == 2
    code, _, err = run_cli(
        ["eval", str(odd["uhd_4k"]), "--size", "64", "--json", str(report)], capsys
    )
    entry = json.loads(report.read_text())["videos"][0]
    assert code == 0 and (entry["height"], entry["width"]) == (36, 64), err
    # Too little to measure: one line saying what is needed. (The metrics' size check does
    # not name the file yet; the frame count check does.)
    one_line_error(*run_cli(["eval", str(odd["one_frame"])], capsys)[::2], "one_frame.mp4", "2")
    for case in ("tiny_8x8", "line_1x4000"):
        one_line_error(*run_cli(["eval", str(odd[case])], capsys)[::2], "at least 16x16")


def test_frame_folder_of_mixed_sizes(tmp_path: Path, capsys) -> None:
    for i, (h, w) in enumerate([(32, 32), (32, 32), (24, 40)]):
        write_image(tmp_path / "shots" / f"{i}.png", pattern(1, h, w)[0])
    one_line_error(*run_cli(["eval", str(tmp_path / "shots")], capsys)[::2], "2.png is 40x24")


# ---------------------------------------------------------------------------------- autoencode


@pytest.fixture(scope="module")
def autoencoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.conftest import save_tiny_autoencoder

    return save_tiny_autoencoder(tmp_path_factory.mktemp("ae") / "autoencoder")


def test_autoencode_every_file(corpus, autoencoder: Path, capsys) -> None:
    base = ["--checkpoint", str(autoencoder), "--size", "32", "--max-frames", "4"]
    for path in corpus["bad"].values():
        one_line_error(*run_cli(["autoencode", str(path), *base], capsys)[::2], str(path))
    for case, path in corpus["odd"].items():
        code, out, err = run_cli(["autoencode", str(path), *base], capsys)
        assert code == 0 and "PSNR" in out, (case, err)


# ------------------------------------------------------------------------ generate --image


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pipe") / "pipeline"
    return tiny_pipeline([PROMPT], frames=4, size=16).save_pretrained(folder)


def test_generate_image_every_file(corpus, pipeline: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "clip.mp4"
    base = [PROMPT, "-c", str(pipeline), "--steps", "1", "--out", str(out)]
    for case, path in corpus["bad_images"].items():
        code, _, err = run_cli(["generate", *base, "--image", str(path)], capsys)
        one_line_error(code, err, str(path), "not a readable image")
        assert not out.exists(), case
    for case, path in corpus["odd_images"].items():
        code, _, err = run_cli(["generate", *base, "--image", str(path)], capsys)
        assert code == 0 and read_video(out).frames.shape == (4, 16, 16, 3), (case, err)


# ------------------------------------------------------------------- training on folders

TRAIN = ["train", "--preset", "shapes-tiny", "--steps", "1", "--set", "progress=false",
         "--set", "sample_every=0", "--set", "data.kind=video_folder", "--set", "data.frames=4",
         "--set", "data.size=32", "--set", "batch_size=2"]  # fmt: skip
TRAIN_AE = ["train-autoencoder", "--steps", "1", "--set", "size=32", "--set", "crop=0",
            "--set", "batch_size=2", "--set", "train_clips=2", "--set", "eval_clips=1",
            "--set", "scaling_clips=1"]  # fmt: skip


def warned_about(err: str, path: Path) -> bool:
    """One ``spacetime: warning:`` line names ``path``; no Python warning format."""
    lines = [line for line in err.splitlines() if str(path) in line]
    return len(lines) == 1 and lines[0].startswith("spacetime: warning: skipping")


@pytest.mark.slow
def test_training_skips_bad_files_with_one_warning(corpus, tmp_path: Path, capsys) -> None:
    for case, path in corpus["bad"].items():
        data = good_folder(tmp_path / case)
        shutil.copy(path, data / path.name)
        code, _, err = run_cli(
            [*TRAIN, "--set", f"data.path={data}", "--out", str(data / "r")], capsys
        )
        assert code == 0 and warned_about(err, data / path.name), (case, err)
        code, _, err = run_cli([*TRAIN_AE, "--data", str(data), "--out", str(data / "ae")], capsys)
        assert code == 0 and warned_about(err, data / path.name), (case, err)
        assert "Traceback" not in err and ".py:" not in err
    only_bad = tmp_path / "only_bad"
    only_bad.mkdir()
    for path in corpus["bad"].values():
        shutil.copy(path, only_bad / path.name)
    code, _, err = run_cli(
        [*TRAIN, "--set", f"data.path={only_bad}", "--out", str(tmp_path / "r")], capsys
    )
    one_line_error(code, err, str(only_bad), "none of its 5 videos is usable")
    code, _, err = run_cli(
        [*TRAIN_AE, "--data", str(only_bad), "--out", str(tmp_path / "a")], capsys
    )
    one_line_error(code, err, str(only_bad), "none of its 5 videos can be decoded")


def test_training_on_odd_videos_and_mixed_images(corpus, tmp_path: Path, capsys) -> None:
    data = good_folder(tmp_path / "videos")
    for case in ("tiny_8x8", "line_1x4000", "gray", "ten_bit", "variable_rate", "rotated_90"):
        shutil.copy(corpus["odd"][case], data / corpus["odd"][case].name)
    images = tmp_path / "images"
    for i, (h, w) in enumerate([(16, 16), (48, 64), (1, 400), (300, 20)]):
        write_image(images / f"im{i}.png", pattern(1, h, w)[0])
        (images / f"im{i}.txt").write_text(PROMPT)
    for path in corpus["bad_images"].values():
        shutil.copy(path, images / path.name)
    sets = ["--set", f"data.path={data}", "--set", "data.image_ratio=1.0"]
    code, _, err = run_cli([*TRAIN, *sets, "--set", f"data.image_path={images}",
                            "--steps", "2", "--out", str(tmp_path / "r")], capsys)  # fmt: skip
    assert code == 0, err
    assert all(warned_about(err, images / p.name) for p in corpus["bad_images"].values())
    assert len([line for line in err.splitlines() if "unreadable images" in line]) == 1


# -------------------------------------------------------------------------- captions files

MANIFESTS = {
    "bad_json": ('{"file": "good0.mp4", "caption": "x"}\n{"file": "good1.mp4", "capt\n',
                 ":2: not valid JSON"),
    "no_file_column": ('{"caption": "x"}\n', ":1: a row needs a 'file' column"),
    "not_an_object": ("[1, 2]\n", ":1: expected a JSON object per line"),
    "not_utf8": (b"\xff\xfe garbage", "not UTF-8 text"),
    "bad_csv_header": ("name,text\ngood0.mp4,a\n", "must have a 'file' and a 'caption' column"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MANIFESTS))
def test_bad_captions_files(case: str, tmp_path: Path, capsys) -> None:
    content, message = MANIFESTS[case]
    data = good_folder(tmp_path / "data")
    for sidecar in data.glob("*.txt"):
        sidecar.unlink()
    manifest = data / ("metadata.csv" if case == "bad_csv_header" else "metadata.jsonl")
    manifest.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, _, err = run_cli(
        [*TRAIN, "--set", f"data.path={data}", "--out", str(tmp_path / "r")], capsys
    )
    one_line_error(code, err, str(manifest), message)
    code, _, err = run_cli(["eval", str(data / "good0.mp4"), "--captions", str(manifest)], capsys)
    one_line_error(code, err, str(manifest), message)


def test_captions_naming_unknown_files(tmp_path: Path, capsys) -> None:
    data = good_folder(tmp_path / "data")
    (data / "metadata.jsonl").write_text(
        json.dumps({"file": "good0.mp4", "caption": PROMPT})
        + "\n"
        + json.dumps({"file": "gone.mp4", "caption": "a blue circle"})
        + "\n"
    )
    code, _, err = run_cli(
        [*TRAIN, "--set", f"data.path={data}", "--out", str(tmp_path / "r")], capsys
    )
    assert code == 0 and "skipping 1 missing videos (listed in the manifest, not found)" in err
    assert warned_about(err, data / "gone.mp4")
    (data / "metadata.jsonl").write_text(json.dumps({"file": "gone.mp4", "caption": "x"}) + "\n")
    code, _, err = run_cli(
        [*TRAIN, "--set", f"data.path={data}", "--out", str(tmp_path / "s")], capsys
    )
    one_line_error(code, err, str(data), "1 missing")


# ------------------------------------------------------------------------------- reports


def test_html_report_escapes_file_names_and_captions(tmp_path: Path, capsys) -> None:
    name = "<img src=x onerror=alert(1)>.mp4"
    clip = encode(tmp_path / name, pattern(4, 32, 32))
    caption = "<script>alert('caption')</script> a red square moves right"
    html = tmp_path / "report.html"
    code, _, err = run_cli(["eval", str(clip), "--caption", caption, "--html", str(html)], capsys)
    assert code == 0, err
    page = html.read_text()
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.mp4" in page
    assert "&lt;script&gt;alert(" in page
