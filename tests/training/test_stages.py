"""The staged recipe on real components: a per-frame text->image run, inflated into a space-time
run whose spatial weights are frozen (out of the optimizer, no gradients) or trained slower, on a
latent dataset encoded once; exact resume of the video stage."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from helpers import assert_same_state
from spacetime.contracts.conditioning import TextEmbedding
from spacetime.errors import SpacetimeError
from spacetime.models.inflate import is_temporal_parameter
from spacetime.pipelines.video_pipeline import VideoPipeline
from spacetime.training.checkpoint import find_checkpoint, load_state
from spacetime.training.config import TrainConfig, load_config
from spacetime.training.trainer import Trainer

MODEL = "model.name=unet3d-tiny"
LEVELS = ["model.overrides={cross_attention_levels: [0, 1], pooled_text: true}"]


def stage(tmp: Path, autoencoder: Path, *sets: str) -> TrainConfig:
    """The tiny preset on the tiny latent space with a latent dataset in ``tmp``."""
    return load_config("shapes-tiny", None, [
        "progress=false", MODEL, *LEVELS, f"autoencoder.path={autoencoder}",
        f"data.latents={tmp / 'latents'}", "data.shapes_count=16",
        "masks.probs={none: 0.5, first: 0.5}", *sets,
    ])  # fmt: skip


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory, tiny_autoencoder: Path) -> Path:
    """Stage 1: a per-frame model trained on single frames for 6 steps."""
    tmp = tmp_path_factory.mktemp("stages")
    config = stage(tmp, tiny_autoencoder, "model.temporal=false", "data.image_ratio=1.0",
                   "steps=6", "batch_size=8")  # fmt: skip
    Trainer(config, tmp / "image").train()
    return tmp / "image"


def video_stage(image_run: Path, autoencoder: Path, *sets: str) -> TrainConfig:
    return stage(image_run.parent, autoencoder, f"init.path={image_run}", "init.inflate=true",
                 "steps=4", "batch_size=2", *sets)  # fmt: skip


def test_frozen_spatial_weights_stay_out_of_the_optimizer_and_unchanged(
    image_run: Path, tiny_autoencoder: Path, tmp_path: Path
) -> None:
    config = video_stage(image_run, tiny_autoencoder, "finetune.spatial=frozen")
    trainer = Trainer(config, tmp_path / "video")
    start = {k: v.detach().clone() for k, v in trainer.system.named_parameters()}
    in_optimizer = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    for name, param in trainer.system.named_parameters():
        temporal = is_temporal_parameter(name)
        assert param.requires_grad == temporal, name
        assert (id(param) in in_optimizer) == temporal, name
    trainer.train()
    moved = set()
    for name, param in trainer.system.named_parameters():
        if is_temporal_parameter(name):
            moved.add(name) if not torch.equal(param, start[name]) else None
        else:
            assert param.grad is None, f"{name} got a gradient"
            assert torch.equal(param, start[name]), f"frozen {name} changed"
    assert moved, "no temporal weight trained"
    # the published pipeline holds the frozen stage-1 weights and the trained temporal layers
    pipe = VideoPipeline.from_pretrained(tmp_path / "video" / "checkpoint" / "pipeline")
    image = VideoPipeline.from_pretrained(image_run / "checkpoint" / "pipeline")
    saved, before = pipe.denoiser.state_dict(), image.denoiser.state_dict()
    assert all(torch.equal(saved[k], v) for k, v in before.items())
    state = load_state(find_checkpoint(tmp_path / "video"))
    assert all(is_temporal_parameter(k.removeprefix("denoiser.")) for k in state.model)


def test_scaled_spatial_weights_train_at_a_fraction_of_the_rate(
    image_run: Path, tiny_autoencoder: Path, tmp_path: Path
) -> None:
    config = video_stage(image_run, tiny_autoencoder, "finetune.spatial=scaled",
                         "finetune.spatial_lr_scale=0.25", "optim.lr=0.001")  # fmt: skip
    trainer = Trainer(config, tmp_path / "video")
    names = {id(p): n for n, p in trainer.system.named_parameters()}
    rates = {}
    for group in trainer.optimizer.param_groups:
        for p in group["params"]:
            rates[names[id(p)]] = group["initial_lr"]
    assert len(rates) == sum(1 for _ in trainer.system.parameters())  # everything trains
    for name, lr in rates.items():
        assert lr == pytest.approx(0.001 if is_temporal_parameter(name) else 0.00025), name


def test_video_stage_starts_as_the_image_model_and_resumes_exactly(
    image_run: Path, tiny_autoencoder: Path, tmp_path: Path
) -> None:
    config = video_stage(image_run, tiny_autoencoder, "finetune.spatial=frozen")
    fresh = Trainer(config, tmp_path / "once")
    image = VideoPipeline.from_pretrained(image_run / "checkpoint" / "pipeline")
    x = torch.randn(2, 4, 4, 8, 8, dtype=torch.float64)
    t = torch.tensor([900.0, 300.0])
    text = image.text_encoder(["a red circle moves right", "a blue square stays still"])
    text = TextEmbedding(text.tokens.double(), text.mask)
    # float64 copies: one 4-frame call and four 1-frame calls run kernels of other batch
    # sizes, whose float32 rounding may differ by ~1e-6; in float64 by ~1e-15
    video_model, image_model = (
        copy.deepcopy(fresh.system.denoiser).double(),
        image.denoiser.double(),
    )
    with torch.no_grad():
        video = video_model(x, t, text=text)  # (2, 4, 4, 8, 8)
        frames = [image_model(x[:, :, i : i + 1], t, text=text) for i in range(4)]
    torch.testing.assert_close(video, torch.cat(frames, dim=2), rtol=0, atol=1e-9)
    fresh.train()
    first = Trainer(config, tmp_path / "resumed")
    first.train(stop_at=2)
    Trainer(config, tmp_path / "resumed").train()
    once, resumed = (load_state(find_checkpoint(tmp_path / d)) for d in ("once", "resumed"))
    assert_same_state(once, resumed)


def test_init_errors_name_the_problem(
    image_run: Path, tiny_autoencoder: Path, tmp_path: Path
) -> None:
    with pytest.raises(SpacetimeError, match=r"init\.inflate=true"):  # a per-frame model
        Trainer(video_stage(image_run, tiny_autoencoder, "init.inflate=false"), tmp_path / "a")
    with pytest.raises(SpacetimeError, match="differs from this run's in base_channels"):
        wider = video_stage(image_run, tiny_autoencoder, "model.overrides.base_channels=16")
        Trainer(wider, tmp_path / "b")
    with pytest.raises(SpacetimeError, match=r"init\.path .* does not exist"):
        Trainer(video_stage(tmp_path / "nowhere", tiny_autoencoder), tmp_path / "c")
