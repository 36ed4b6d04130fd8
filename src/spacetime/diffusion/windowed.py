"""Denoising a clip longer than the model's window as overlapping windows, step by step.

:class:`WindowedDenoiser` is a denoiser wrapper (see :mod:`.context`): called on a long state
``(B, C, N, H, W)`` it runs the network on overlapping windows of ``W`` frames at stride ``S``
and fuses the outputs frame by frame with weights that fall towards each window's edges, so
every step of :func:`~spacetime.diffusion.sample` denoises all windows together and their
overlaps agree (MultiDiffusion, Bar-Tal et al. 2023, eq. 5; FreeNoise, Qiu et al. 2024, Sec.
3.3, which weights frames by their distance to the window centre). Outputs are fused before the
scheduler step; since every parameterisation is affine in the output at a fixed ``x_t``, this is
the same as fusing the x0 estimates.

:func:`freenoise_noise` is FreeNoise's noise rescheduling (Sec. 3.2): the initial noise of the
first window is reused, locally shuffled, for every later stretch of ``S`` frames, so that all
windows start from the same noise frames and the long clip keeps one content instead of
drifting to new content every window.

Memory: the network only ever sees one window; the state is ``N`` frames of latents.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.diffusion.objectives import Denoiser
from spacetime.errors import SpacetimeError

__all__ = ["WindowedDenoiser", "freenoise_noise", "window_starts", "window_weights"]


def window_starts(total: int, window: int, stride: int) -> list[int]:
    """First frames of windows of ``window`` frames at ``stride`` covering ``0 .. total - 1``;
    the last window ends at ``total`` (it may overlap its neighbour by more)."""
    if not 1 <= stride <= window:
        raise SpacetimeError(f"stride must be in [1, window={window}]; got {stride}")
    if total <= window:
        return [0]
    starts = list(range(0, total - window, stride))
    return [*starts, total - window]


def window_weights(window: int) -> torch.Tensor:
    """``(W,)`` fusion weights: a tent peaking at the centre, ``1 / (1 + |i - c|)`` (c the
    centre), so a frame is decided mostly by the windows it sits in the middle of; every
    weight is positive, so frames at the clip's ends (covered by one window) are defined."""
    centre = (window - 1) / 2
    return 1.0 / (1.0 + (torch.arange(window, dtype=torch.float32) - centre).abs())


def freenoise_noise(
    seeds: Sequence[int], shape: tuple[int, int, int, int], window: int, stride: int
) -> torch.Tensor:
    """Initial noise ``(B, C, N, H, W)`` for ``shape = (C, N, H, W)``: frames ``0 .. W-1`` are
    i.i.d. from ``torch.Generator(seed)``; each later chunk ``[f, f + S)`` copies the frames
    ``[f - W, f - W + S)`` in a random order drawn from the same generator (FreeNoise, Qiu et al.
    2024, Sec. 3.2). Depends only on the seed, not on the batch."""
    channels, total, height, width = shape
    out = []
    for seed in seeds:
        gen = torch.Generator().manual_seed(int(seed))
        noise = torch.empty(channels, total, height, width)
        first = min(window, total)
        noise[:, :first] = torch.randn(channels, first, height, width, generator=gen)
        for f in range(window, total, stride):
            size = min(stride, total - f)
            order = torch.randperm(size, generator=gen) + (f - window)
            noise[:, f : f + size] = noise[:, order]
        out.append(noise)
    return torch.stack(out)


class WindowedDenoiser:
    """Run ``model`` on overlapping windows of a long clip and fuse the outputs.

    Args:
        model: the network, ``model(x_t, t, *, text, frames)`` on ``window`` frames.
        window: frames per network call ``W``.
        stride: frames between window starts ``S`` (overlap ``W - S``).

    The per-frame ``t`` and the frame condition are sliced with the window, so given frames
    (image->video on the long clip) and Diffusion Forcing-style per-frame levels carry through.
    A model holding per-frame conditioning of its own (e.g.
    :class:`~spacetime.models.super_resolution.LowResConditioned`) provides
    ``restrict(frames: slice) -> model`` and is called restricted to each window.
    """

    def __init__(self, model: Denoiser, window: int, stride: int) -> None:
        if window < 1:
            raise SpacetimeError(f"window must be >= 1; got {window}")
        window_starts(window, window, stride)  # validates the stride
        self.model, self.window, self.stride = model, int(window), int(stride)
        self.weights = window_weights(self.window)

    def rows(self, part: slice) -> WindowedDenoiser:
        """This wrapper for samples ``part`` (forwards ``rows`` to a model that has it)."""
        if not hasattr(self.model, "rows"):
            return self
        return WindowedDenoiser(self.model.rows(part), self.window, self.stride)

    def __call__(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        *,
        text: TextEmbedding | None = None,
        frames: FrameCondition | None = None,
    ) -> torch.Tensor:
        b, _, total = x.shape[:3]
        t = t[:, None].expand(b, total) if t.ndim == 1 else t  # (B, N)
        fused: torch.Tensor | None = None
        norm = torch.zeros(total, dtype=torch.float32, device=x.device)  # (N,)
        for start in window_starts(total, self.window, self.stride):
            part = slice(start, start + self.window)
            cond = None
            if frames is not None:
                cond = FrameCondition(frames.mask[:, part], frames.values[:, :, part])
            net = self.model.restrict(part) if hasattr(self.model, "restrict") else self.model
            out = net(x[:, :, part], t[:, part], text=text, frames=cond)  # (B, C, W', H, W)
            weight = self.weights[: out.shape[2]].to(out.device)
            if fused is None:
                fused = torch.zeros(b, out.shape[1], total, *x.shape[3:], dtype=out.dtype,
                                    device=out.device)  # fmt: skip
            fused[:, :, part] += out * weight[None, None, :, None, None]
            norm[part] += weight
        assert fused is not None  # at least one window
        return fused / norm[None, None, :, None, None].to(fused.dtype)
