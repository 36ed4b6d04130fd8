"""Tests for spacetime.evaluation.fvd with tiny TorchScript stand-ins for I3D."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from spacetime.errors import SpacetimeError
from spacetime.evaluation.frechet import frechet_from_features
from spacetime.evaluation.fvd import (
    FeatureExtractor,
    I3DFeatures,
    extract_features,
    frechet_video_distance,
    prepare_clips,
)
from spacetime.video import Video


class KwargsNet(nn.Module):
    """StyleGAN-V's I3D calling convention: features when ``return_features``, else softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv3d(3, 6, kernel_size=(4, 16, 16), stride=(4, 16, 16))
        self.head = nn.Linear(6, 3)

    def forward(
        self,
        x: torch.Tensor,
        rescale: bool = True,
        resize: bool = True,
        return_features: bool = False,
    ) -> torch.Tensor:
        if rescale or resize:  # the module must never redo our preprocessing
            raise RuntimeError("expected rescale=False, resize=False")
        features = self.conv(x).mean(dim=(2, 3, 4))  # (N, 6)
        return features if return_features else self.head(features).softmax(-1)


class ProbeNet(nn.Module):
    """Plain forward (no keywords) that reports what it was given: min, max, C, T, H, W."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        shape = torch.tensor([float(s) for s in x.shape[1:]]).expand(n, 4)
        return torch.cat(
            [x.amin(dim=(1, 2, 3, 4))[:, None], x.amax(dim=(1, 2, 3, 4))[:, None], shape], 1
        )


@pytest.fixture(scope="module")
def kwargs_net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("i3d") / "kwargs.pt"
    torch.jit.script(KwargsNet()).save(str(path))
    return path


@pytest.fixture(scope="module")
def probe_net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("i3d") / "probe.pt"
    torch.jit.script(ProbeNet()).save(str(path))
    return path


def _clips(n: int, t: int = 16, h: int = 20, w: int = 24, seed: int = 0, shift: int = 0):
    rng = np.random.default_rng(seed)
    return np.clip(rng.integers(0, 200, (n, t, h, w, 3)) + shift, 0, 255).astype(np.uint8)


def test_protocol_preprocessing(probe_net: Path) -> None:
    videos = np.zeros((2, 20, 30, 40, 3), np.uint8)
    videos[:, :, :, 20:] = 255  # half black, half white
    features = I3DFeatures(probe_net)(videos)
    assert features.dtype == np.float64
    # values scaled to [-1, 1]; (N, 3, 16, 224, 224): 16 of 20 frames, resized to 224 x 224
    np.testing.assert_allclose(features, [[-1, 1, 3, 16, 224, 224]] * 2, atol=1e-6)


def test_prepare_clips_layout_and_values() -> None:
    videos = np.zeros((1, 3, 4, 6, 3), np.uint8)
    videos[0, 1, ..., 0] = 255  # frame 1, red channel
    clips = prepare_clips(videos, num_frames=None, size=4)
    assert clips.shape == (1, 3, 3, 4, 4) and clips.dtype == torch.float32
    assert torch.all(clips[0, 0, 1] == 1) and torch.all(clips[0, 1:, :] == -1)
    assert torch.all(clips[0, 0, 0] == -1)
    cropped = prepare_clips(videos, num_frames=2, size=4, center_crop=True)
    assert cropped.shape == (1, 3, 2, 4, 4)
    with pytest.raises(SpacetimeError, match="16"):
        prepare_clips(videos)  # 3 frames < 16
    with pytest.raises(SpacetimeError, match="uint8"):
        prepare_clips(videos.astype(np.float32), num_frames=None)


def test_stylegan_v_keywords_give_features(kwargs_net: Path) -> None:
    extractor = I3DFeatures(kwargs_net, size=32)
    assert extractor.kwargs == {"rescale": False, "resize": False, "return_features": True}
    assert isinstance(extractor, FeatureExtractor)
    features = extractor(_clips(3))
    assert features.shape == (3, 6)  # the 6 conv features, not the 3 softmax outputs


def test_fvd_is_zero_for_identical_sets_and_grows_with_the_shift(kwargs_net: Path) -> None:
    extractor = I3DFeatures(kwargs_net, size=32)
    real = _clips(6, seed=1)
    assert frechet_video_distance(real, real, extractor, batch_size=4) == pytest.approx(
        0.0, abs=1e-9
    )
    near = frechet_video_distance(real, _clips(6, seed=2, shift=10), extractor)
    far = frechet_video_distance(real, _clips(6, seed=2, shift=50), extractor)
    assert 0 < near < far


def test_fvd_equals_frechet_of_the_features_whatever_the_batching(kwargs_net: Path) -> None:
    extractor = I3DFeatures(kwargs_net, size=32)
    real, fake = _clips(5, seed=3), _clips(4, seed=4, shift=20)
    expected = frechet_from_features(extractor(real), extractor(fake))
    # Lists of arrays, Video objects, odd batch sizes and mixed frame sizes all give the same.
    mixed = [Video(c, fps=8.0) for c in fake[:2]] + [c for c in fake[2:]]
    got = frechet_video_distance(list(real), mixed, extractor, batch_size=3)
    assert got == pytest.approx(expected, rel=1e-9)
    other_size = [_clips(1, h=28, w=28, seed=9)[0]]
    features = extract_features(list(real[:2]) + other_size, extractor, batch_size=8)
    assert features.shape == (3, 6)


def test_any_extractor_works() -> None:
    def mean_colour(videos: np.ndarray) -> np.ndarray:  # (N, T, H, W, 3) -> (N, 3)
        return videos.reshape(len(videos), -1, 3).mean(axis=1)

    a, b = _clips(8, t=2, seed=5), _clips(8, t=2, seed=6, shift=30)
    d = frechet_video_distance(a, b, mean_colour)
    assert d == pytest.approx(frechet_from_features(mean_colour(a), mean_colour(b)))
    assert d > 3 * 25**2  # the means moved by ~30 grey levels per channel


def test_missing_file_says_nothing_is_downloaded(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match="downloads nothing") as info:
        I3DFeatures(tmp_path / "i3d_torchscript.pt")
    assert "i3d_torchscript.pt" in str(info.value) and "local path" in str(info.value)


def test_bad_protocol_options(kwargs_net: Path) -> None:
    with pytest.raises(SpacetimeError, match="num_frames"):
        I3DFeatures(kwargs_net, num_frames=0)
    with pytest.raises(SpacetimeError, match="size"):
        I3DFeatures(kwargs_net, size=0)


def test_not_torchscript_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "i3d.pt"
    path.write_bytes(b"not a zip archive")
    with pytest.raises(SpacetimeError, match="not a TorchScript module"):
        I3DFeatures(path)


def test_extract_features_checks_its_inputs() -> None:
    with pytest.raises(SpacetimeError, match="no clips"):
        extract_features([], lambda v: v.reshape(len(v), -1))
    with pytest.raises(SpacetimeError, match="batch_size"):
        extract_features(_clips(2, t=1), lambda v: v.reshape(len(v), -1), batch_size=0)
    with pytest.raises(SpacetimeError, match=r"expected \(N, D\)"):
        extract_features(_clips(2, t=1), lambda v: v.reshape(-1))
