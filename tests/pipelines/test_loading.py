"""spacetime.pipelines.loading (a pipeline from a run / pipeline folder / the default model),
and what `spacetime generate` runs on it: generate_videos and best_of_groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import hide_default_model, save_tiny_run
from spacetime.errors import SpacetimeError
from spacetime.pipelines import default
from spacetime.pipelines.best_of import best_of_groups, rank_variants
from spacetime.pipelines.loading import load_pipeline, resolve_pipeline
from spacetime.pipelines.long_video import LongVideo, generate_long, generate_videos

PROMPT = "a red circle moves left"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A training run folder holding a tiny pipeline, as `spacetime train` writes it."""
    return save_tiny_run(tmp_path_factory.mktemp("run"), PROMPT)


@pytest.fixture(autouse=True)
def no_default_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever is bundled, the default model is absent unless a test points at one."""
    hide_default_model(tmp_path, monkeypatch)


def test_a_run_folder_resolves_to_its_checkpoint_pipeline(run_dir: Path) -> None:
    pipeline = run_dir / "checkpoint" / "pipeline"
    assert resolve_pipeline(run_dir) == pipeline
    assert resolve_pipeline(pipeline) == pipeline
    assert resolve_pipeline(str(run_dir)) == pipeline


def test_none_is_the_default_model(run_dir: Path, tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(SpacetimeError, match="no default model is bundled with this spacetime"):
        resolve_pipeline(None)
    pipeline = run_dir / "checkpoint" / "pipeline"
    monkeypatch.setenv(default.DEFAULT_MODEL_ENV, str(pipeline))
    assert resolve_pipeline(None) == pipeline
    monkeypatch.setenv(default.DEFAULT_MODEL_ENV, str(tmp_path / "gone"))
    with pytest.raises(SpacetimeError, match=r"SPACETIME_DEFAULT_MODEL=.*gone is not a spacetime"):
        resolve_pipeline(None)


def test_bad_folders_are_named_with_what_was_asked(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match=r"^--checkpoint .*missing does not exist"):
        resolve_pipeline(tmp_path / "missing")
    with pytest.raises(SpacetimeError, match=r"^cascade base .* neither a pipeline folder"):
        resolve_pipeline(tmp_path, what="cascade base")


def test_load_pipeline_loads_the_resolved_folder(run_dir: Path) -> None:
    pipe = load_pipeline(run_dir, device="cpu")
    saved = load_pipeline(run_dir / "checkpoint" / "pipeline")
    assert pipe.sample_frames == 4 and pipe.sample_size == (16, 16)
    for a, b in zip(pipe.denoiser.parameters(), saved.denoiser.parameters(), strict=True):
        assert a.equal(b)


def test_generate_videos_is_one_call_or_long_windows_in_chunks(run_dir: Path) -> None:
    pipe = load_pipeline(run_dir)
    sampling = {"steps": 1, "guidance": 2.0, "sampler": "ddim"}
    prompts, seeds = [PROMPT] * 3, [0, 1, 2]
    one = generate_videos(pipe, prompts, seeds=seeds, batch_size=2, **sampling)
    direct = pipe(prompts, seeds=seeds, progress=False, **sampling)
    assert one.shape == (3, 4, 16, 16, 3) and np.array_equal(one, direct)
    long = LongVideo("sliding", window=4, overlap=2)
    chunked = generate_videos(pipe, prompts, seeds=seeds, frames=6, long=long, batch_size=2,
                              **sampling)  # fmt: skip
    whole = generate_long(pipe, prompts, seeds=seeds, total_frames=6, settings=long,
                          progress=False, **sampling)  # fmt: skip
    assert chunked.shape == (3, 6, 16, 16, 3) and np.array_equal(chunked, whole)


def test_best_of_groups_keeps_the_first_ranked_variant_per_video() -> None:
    rng = np.random.default_rng(0)
    still = np.full((4, 16, 16, 3), 90, np.uint8)
    noisy = rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    moving = np.stack([np.roll(np.eye(16, dtype=np.uint8)[..., None] * 200, t, axis=1)
                       for t in range(4)]).repeat(3, axis=-1)  # fmt: skip
    candidates = np.stack([noisy, moving, still, moving, noisy, still])
    best = best_of_groups(candidates, "a calm scene", 3)
    assert len(best) == 2
    for i, kept in enumerate(best):
        first = rank_variants(candidates[3 * i : 3 * i + 3], "a calm scene")[0]
        assert (kept.index, kept.rank, kept.adherence) == (first.index, first.rank, None)
    with pytest.raises(SpacetimeError, match="do not split into groups of 4"):
        best_of_groups(candidates, "a calm scene", 4)
