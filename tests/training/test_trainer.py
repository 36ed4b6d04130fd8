"""The training loop on real components (tiny DiT, word encoder, ShapesWorld): loss, resume,
divergence, joint image-video training, mixed precision and latent-space runs."""

from __future__ import annotations

import json
import math
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from helpers import assert_same_state, same_threads_env
from spacetime.contracts.conditioning import FrameCondition
from spacetime.data.shapes import vocabulary
from spacetime.errors import SpacetimeError
from spacetime.models.autoencoder import load_autoencoder
from spacetime.pipelines.video_pipeline import VideoPipeline
from spacetime.training.batches import StepShards
from spacetime.training.checkpoint import find_checkpoint, load_state
from spacetime.training.config import TrainConfig, load_config
from spacetime.training.latent import autoencoder_fingerprint, encode_latents
from spacetime.training.trainer import Trainer, TrainingDivergedError


def tiny(*sets: str) -> TrainConfig:
    """The shapes-tiny preset without progress output, plus ``key=value`` overrides."""
    return load_config("shapes-tiny", None, ["progress=false", *sets])


def test_loss_falls_on_shapesworld(tmp_path: Path) -> None:
    trainer = Trainer(tiny("steps=60", "checkpoint_every=1000"), tmp_path)
    assert trainer.train() == 60
    first, last = sum(trainer.history[:10]) / 10, sum(trainer.history[-10:]) / 10
    assert first > 0.8  # eps prediction starts at E[eps^2] = 1 (zero-initialised output)
    assert last < 0.7 * first, (first, last)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(5, 61, 5))
    assert all(math.isfinite(r["loss"]) and r["lr"] > 0 for r in log)


# Accumulation (2 micro-batches), image steps, caption dropout and frame masks all on.
RESUME = ("steps=6", "checkpoint_every=3", "micro_batch_size=2", "data.image_ratio=0.3",
          "log_every=1", "text.caption_dropout=0.3")  # fmt: skip


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-step run without interruption."""
    out = tmp_path_factory.mktemp("straight")
    Trainer(tiny(*RESUME), out).train()
    return out


def test_stop_and_resume_is_bit_exact(straight_run: Path, tmp_path: Path) -> None:
    first = Trainer(tiny(*RESUME), tmp_path)
    assert first.train(stop_at=3) == 3
    assert load_state(find_checkpoint(tmp_path)).step == 3
    del first
    resumed = Trainer(tiny(*RESUME), tmp_path)  # "rerun the same command"
    assert resumed.step == 3
    assert resumed.train() == 6
    assert_same_state(load_state(straight_run / "checkpoint"), load_state(tmp_path / "checkpoint"))

    # The log of the resumed run matches too (throughput aside).
    def losses(run: Path) -> list[float]:
        lines = (run / "log.jsonl").read_text().splitlines()
        return [json.loads(line)["loss"] for line in lines]

    assert losses(straight_run) == losses(tmp_path)
    # The published pipeline holds the EMA weights and loads with from_pretrained.
    pipe = VideoPipeline.from_pretrained(tmp_path / "checkpoint" / "pipeline")
    ema = load_state(tmp_path / "checkpoint").ema
    for name, p in pipe.denoiser.named_parameters():
        assert torch.equal(p, ema[f"denoiser.{name}"])
    video = pipe(["a red square moves left"], seeds=[0], steps=2, guidance=2.0, progress=False)
    assert video.shape == (1, 4, 32, 32, 3) and video.dtype.name == "uint8"


def test_checkpoint_layout_is_what_earlier_runs_resume_from(straight_run: Path) -> None:
    """The files, meta keys and tensor names a resume reads: changing them would strand every
    run started by an earlier version (its checkpoint could not be resumed)."""
    folder = straight_run / "checkpoint"
    assert sorted(p.name for p in (folder / "state").iterdir()) == [
        "ema.safetensors", "model.safetensors", "optimizer.json", "optimizer.safetensors",
        "trainer.json",
    ]  # fmt: skip
    assert (folder / "COMPLETE").is_file() and (folder / "pipeline" / "model_index.json").is_file()
    state = load_state(folder)
    assert set(state.meta) == {"step", "seed", "clips_seen", "ema_updates", "scheduler",
                               "processes", "autoencoder", "init", "cpu_seconds"}  # fmt: skip
    assert state.meta["clips_seen"] == 6 * 4 and state.meta["ema_updates"] == 6
    assert set(state.ema) <= set(state.model)
    assert {k.split(".")[0] for k in state.model} == {"denoiser", "text_encoder"}
    trainer = Trainer(tiny(*RESUME), straight_run)  # names as the model has them
    assert set(state.ema) == {k for k, p in trainer.system.named_parameters()}


def test_resume_refuses_a_different_config(straight_run: Path) -> None:
    with pytest.raises(SpacetimeError, match=r"different config \(optim.lr changed\)"):
        Trainer(tiny(*RESUME, "optim.lr=0.1"), straight_run)
    # Bookkeeping keys may change: a longer run continues from step 6.
    assert Trainer(tiny(*RESUME, "steps=7", "log_every=5"), straight_run).step == 6


def test_nan_loss_stops_and_keeps_last_checkpoint(tmp_path: Path) -> None:
    trainer = Trainer(tiny("steps=6", "checkpoint_every=2"), tmp_path)
    trainer.train(stop_at=2)
    before = load_state(find_checkpoint(tmp_path))
    with torch.no_grad():  # weights blown up, as after a too-large step
        trainer.system.denoiser.patch_embed.weight.fill_(float("nan"))
    with pytest.raises(TrainingDivergedError, match=r"loss is nan at step 2.*\(step 2\)"):
        trainer.train()
    assert trainer.step == 2
    assert_same_state(before, load_state(find_checkpoint(tmp_path)))
    assert all(
        torch.isfinite(t).all() for t in load_state(find_checkpoint(tmp_path)).model.values()
    )


def test_image_steps_bypass_temporal_layers(tmp_path: Path) -> None:
    trainer = Trainer(tiny("steps=2", "data.image_ratio=1.0", "optim.warmup_steps=1"), tmp_path)
    start = {k: p.detach().clone() for k, p in trainer.system.named_parameters()}
    trainer.train()
    moved = {k for k, p in trainer.system.named_parameters() if not torch.equal(p, start[k])}
    temporal = {k for k in start if "temporal" in k}
    assert temporal and not temporal & moved  # T = 1: no gradient reaches them
    assert "denoiser.blocks.0.attn.to_q.weight" in moved  # spatial layers learn


def test_bf16_autocast_on_cpu(tmp_path: Path) -> None:
    trainer = Trainer(tiny("steps=2", "mixed_precision=bf16"), tmp_path / "bf16")
    trainer.train()
    assert all(math.isfinite(x) for x in trainer.history)
    assert all(p.dtype == torch.float32 for p in trainer.system.parameters())  # master weights
    # A later run in the same process may use another precision.
    assert Trainer(tiny("steps=1"), tmp_path / "fp32").accelerator.mixed_precision == "no"


@pytest.mark.skipif(torch.cuda.is_available(), reason="fp16 is allowed where CUDA exists")
def test_fp16_without_gpu_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match="fp16 needs a CUDA GPU"):
        Trainer(tiny("mixed_precision=fp16"), tmp_path)


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_is_bit_exact(straight_run: Path, tmp_path: Path) -> None:
    """A real ``spacetime train`` process is SIGKILLed mid-run; rerunning resumes exactly.

    The killed run is launched for 1000 steps (constant learning rate, so the schedule does not
    depend on the total) and killed right after a checkpoint appears; resumed to 3 steps past
    that checkpoint, it must equal an uninterrupted run of as many steps, bit for bit.
    """
    sets = [f"--set={s}" for s in RESUME if not s.startswith("steps=")]
    command = [sys.executable, "-m", "spacetime", "train", "--preset", "shapes-tiny",
               "--steps=1000", f"--out={tmp_path}", "--set=progress=false", *sets]  # fmt: skip
    process = subprocess.Popen(command, env=same_threads_env())
    deadline = time.monotonic() + 300
    try:
        while find_checkpoint(tmp_path) is None and process.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint within 300 s"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL  # killed, not finished
    killed_at = load_state(find_checkpoint(tmp_path)).step  # 3 unless the machine is busy
    steps = f"steps={killed_at + 3}"
    reference = straight_run
    if killed_at != 3:
        reference = tmp_path.parent / f"{tmp_path.name}-reference"
        Trainer(tiny(*RESUME, steps), reference).train()
    resumed = Trainer(tiny(*RESUME, steps), tmp_path)
    assert resumed.step == killed_at
    resumed.train()
    assert_same_state(load_state(reference / "checkpoint"), load_state(tmp_path / "checkpoint"))


def _tiny_clip(folder: Path) -> None:
    """A random 2-layer CLIP text model with a word-level tokenizer over ShapesWorld's words."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import CLIPTextConfig, CLIPTextModel, PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<unk>": 1, "<s>": 2, "</s>": 3}
    vocab |= {w: i + 4 for i, w in enumerate(vocabulary())}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 2), ("</s>", 3)]
    )
    PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", bos_token="<s>",
        eos_token="</s>", model_max_length=48,
    ).save_pretrained(folder)  # fmt: skip
    config = CLIPTextConfig(
        vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=48, pad_token_id=0, bos_token_id=2,
        eos_token_id=3,
    )  # fmt: skip
    CLIPTextModel(config).save_pretrained(folder)


def test_frozen_hugging_face_text_encoder(tmp_path: Path) -> None:
    _tiny_clip(tmp_path / "clip")
    config = tiny("steps=2", "text.kind=hf", f"text.path={tmp_path / 'clip'}")
    trainer = Trainer(config, tmp_path / "run")
    before = {k: v.clone() for k, v in trainer.system.text_encoder.state_dict().items()}
    trainer.train()
    after = trainer.system.text_encoder.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())  # frozen
    state = load_state(tmp_path / "run" / "checkpoint")
    assert not any(k.startswith("text_encoder.") for k in [*state.model, *state.ema])
    assert Trainer(config, tmp_path / "run").step == 2  # resumes without the frozen weights
    pipe = VideoPipeline.from_pretrained(tmp_path / "run" / "checkpoint" / "pipeline")
    assert pipe(["a red square"], seeds=[1], steps=1, progress=False).shape == (1, 4, 32, 32, 3)


# ------------------------------------------------------------------ latent-space training


def latent(autoencoder: Path, *sets: str) -> TrainConfig:
    """shapes-tiny in the 8x8x4 latent space of the tiny autoencoder (2x2 patches)."""
    return tiny(f"autoencoder.path={autoencoder}", "model.overrides.patch_size=2", *sets)


def test_latent_run_resumes_bit_exactly_and_publishes_the_autoencoder(
    tiny_autoencoder: Path, tmp_path: Path
) -> None:
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    Trainer(latent(tiny_autoencoder, *RESUME), straight).train()
    first = Trainer(latent(tiny_autoencoder, *RESUME), stopped)
    assert first.system.denoiser.config.in_channels == 4  # the latent channels
    assert first.train(stop_at=3) == 3
    del first
    resumed = Trainer(latent(tiny_autoencoder, *RESUME), stopped)
    assert resumed.step == 3 and resumed.train() == 6
    state = load_state(stopped / "checkpoint")
    assert_same_state(load_state(straight / "checkpoint"), state)
    # The frozen autoencoder is not trained and not in the training state...
    reference = load_autoencoder(tiny_autoencoder)
    for name, p in resumed.autoencoder.vae.named_parameters():
        assert p.grad is None and torch.equal(p, reference.vae.get_parameter(name)), name
    assert not any("autoencoder" in k or "vae" in k for k in [*state.model, *state.ema])
    assert state.meta["autoencoder"] == autoencoder_fingerprint(reference)
    # ...but it is saved with the pipeline, which samples latents and decodes them to pixels.
    pipe = VideoPipeline.from_pretrained(stopped / "checkpoint" / "pipeline")
    assert autoencoder_fingerprint(pipe.autoencoder) == state.meta["autoencoder"]
    assert pipe.channels == 4 and pipe.sample_size == (32, 32)
    video = pipe(["a red square moves left"], seeds=[0], steps=2, progress=False)
    assert video.shape == (1, 4, 32, 32, 3) and video.dtype.name == "uint8"
    first_frame = pipe(["a red square"], seeds=[1], steps=1, image=video[0, 0], progress=False)
    assert first_frame.shape == (1, 4, 32, 32, 3)  # image -> video: the frame is encoded


def test_latent_batches_and_given_frames_reach_the_denoiser_encoded(
    tiny_autoencoder: Path, tmp_path: Path
) -> None:
    config = latent(tiny_autoencoder, "steps=1", "masks.probs={first: 1.0}", "batch_size=2")
    trainer = Trainer(config, tmp_path)
    seen: list[tuple[torch.Tensor, FrameCondition]] = []

    def capture(module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        seen.append((args[0].detach(), kwargs["frames"]))

    trainer.system.denoiser.register_forward_pre_hook(capture, with_kwargs=True)
    trainer.train()
    (x_t, frames), = seen  # fmt: skip
    assert x_t.shape == (2, 4, 4, 8, 8)  # (B, c, T, H/4, W/4)
    assert frames.mask.any() and frames.values.shape == x_t.shape
    shards = StepShards(trainer.parts.videos, None, trainer.plan, seed=0, start=0, steps=1)
    pixels = shards[0].video  # the step's clips, (2, 3, 4, 32, 32)
    expected = encode_latents(trainer.autoencoder, pixels)
    given = frames.mask  # (B, T): the clean latents of the given frames, exactly
    values, clean = frames.values.permute(0, 2, 1, 3, 4), expected.permute(0, 2, 1, 3, 4)
    torch.testing.assert_close(values[given], clean[given], rtol=0, atol=0)
    torch.testing.assert_close(x_t.permute(0, 2, 1, 3, 4)[given], clean[given], rtol=0, atol=0)


def test_resume_on_another_autoencoder_is_refused(tiny_autoencoder: Path, tmp_path: Path) -> None:
    Trainer(latent(tiny_autoencoder, "steps=1"), tmp_path / "run").train()
    other = load_autoencoder(tiny_autoencoder)
    other.set_scaling(2 * other.scaling_factor, other.shift_factor)  # other latents
    other.save_pretrained(tmp_path / "other")
    with pytest.raises(SpacetimeError, match="trained on a different latent space"):
        Trainer(latent(tmp_path / "other", "steps=1"), tmp_path / "run")
    # The same weights in a moved folder resume fine (autoencoder.path may change).
    moved = shutil.copytree(tiny_autoencoder, tmp_path / "moved")
    assert Trainer(latent(moved, "steps=2"), tmp_path / "run").step == 1
    with pytest.raises(SpacetimeError, match=r"autoencoder.path '.*missing' does not exist"):
        Trainer(latent(tmp_path / "missing"), tmp_path / "new")
