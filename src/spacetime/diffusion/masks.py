"""Frame-mask strategies: which frames of a training clip are given (clean) to the model.

One model trained on a mixture of strategies does every frame-conditioned task at sampling
time (DESIGN.md): ``none`` is text→video, ``first`` image→video / prediction, ``last``
backward prediction, ``first-last`` interpolation between end frames, ``every-k`` frame-rate
upsampling between key frames, ``random`` in-filling (as in MCVD, Voleti et al. 2022, and
masked video models). A mask is ``(B, T)`` bool, True where a frame is given; a mask never
gives every frame, since then there is nothing to learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from spacetime.errors import SpacetimeError

MASK_STRATEGIES: tuple[str, ...] = ("none", "first", "last", "first-last", "every-k", "random")

#: Fewest frames a strategy needs to leave at least one frame free.
_MIN_FRAMES = {"none": 1, "first": 2, "last": 2, "first-last": 3, "every-k": 3, "random": 2}


def strategy_mask(strategy: str, frames: int, *, k: int = 1) -> torch.Tensor:
    """The deterministic mask ``(T,)`` bool of ``strategy`` for inference.

    ``k`` is the number of given frames for ``first`` / ``last``, per end for ``first-last``,
    and the stride for ``every-k`` (frames 0, k, 2k, … are given). ``random`` has no
    deterministic form; use :func:`sample_frame_mask`. :class:`SpacetimeError` when the
    strategy would give every frame (e.g. ``last`` with ``k >= frames``).
    """
    if strategy == "random":
        raise SpacetimeError("strategy 'random' has no fixed mask; use sample_frame_mask")
    if strategy not in MASK_STRATEGIES:
        names = ", ".join(s for s in MASK_STRATEGIES if s != "random")
        raise SpacetimeError(f"unknown frame-mask strategy {strategy!r}; expected one of {names}")
    if frames < 1 or k < 1:
        raise SpacetimeError(f"frames and k must be >= 1, got frames={frames}, k={k}")
    given = {"first": k, "last": k, "first-last": 2 * k}.get(strategy)
    if given is not None and given >= frames:
        raise SpacetimeError(
            f"strategy {strategy!r} with k={k} gives {given} of {frames} frames; k must leave "
            f"at least one frame to generate (k <= {(frames - 1) // (given // k)})"
        )
    mask = torch.zeros(frames, dtype=torch.bool)
    if strategy == "first":
        mask[:k] = True
    elif strategy == "last":
        mask[frames - k :] = True
    elif strategy == "first-last":
        mask[:k] = True
        mask[frames - k :] = True
    elif strategy == "every-k":
        mask[::k] = True
    if strategy != "none" and bool(mask.all()):
        raise SpacetimeError(
            f"strategy {strategy!r} with k={k} gives all {frames} frames; nothing to generate"
        )
    return mask


def _randint(low: int, high: int, generator: torch.Generator | None) -> int:
    """Uniform integer in ``[low, high]`` (inclusive)."""
    return int(torch.randint(low, high + 1, (1,), generator=generator).item())


def sample_frame_mask(
    batch: int,
    frames: int,
    *,
    generator: torch.Generator | None = None,
    probs: Mapping[str, float],
    max_context: int | None = None,
    strides: tuple[int, ...] = (2, 3, 4),
    random_rate: float = 0.5,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Random training masks ``(B, T)`` bool, one strategy per sample drawn from ``probs``.

    Args:
        batch, frames: ``B`` and ``T``.
        generator: a CPU ``torch.Generator`` for reproducible masks.
        probs: strategy -> relative probability (keys of :data:`MASK_STRATEGIES`; normalised,
            missing strategies have probability 0).
        max_context: most given frames for ``first`` / ``last`` (per end for ``first-last``);
            the count is uniform in ``[1, max_context]``. Default ``T // 2``.
        strides: strides ``k`` that ``every-k`` draws from (only ``2 <= k < T`` are used).
        random_rate: probability that ``random`` gives each frame.
        device: device of the returned mask.
    """
    unknown = sorted(set(probs) - set(MASK_STRATEGIES))
    if unknown:
        raise SpacetimeError(
            f"unknown frame-mask strategy {', '.join(unknown)}; expected keys among "
            f"{', '.join(MASK_STRATEGIES)}"
        )
    names = [s for s in MASK_STRATEGIES if probs.get(s, 0.0) != 0.0]
    weights = torch.tensor([float(probs[s]) for s in names], dtype=torch.float64)
    if (weights < 0).any() or weights.sum() <= 0:
        raise SpacetimeError(f"frame-mask probabilities must be >= 0 and not all 0, got {probs}")
    usable_strides = [s for s in strides if 2 <= s < frames]
    for name in names:
        if frames < _MIN_FRAMES[name] or (name == "every-k" and not usable_strides):
            raise SpacetimeError(
                f"frame-mask strategy {name!r} needs at least {_MIN_FRAMES[name]} frames (and a "
                f"stride 2 <= k < T for every-k); clips have {frames}"
            )
    if not 0.0 < random_rate < 1.0:
        raise SpacetimeError(f"random_rate must be in (0, 1), got {random_rate}")
    context = max(1, frames // 2) if max_context is None else max_context
    if context < 1:
        raise SpacetimeError(f"max_context must be >= 1, got {max_context}")

    choice = torch.multinomial(weights, batch, replacement=True, generator=generator)
    mask = torch.zeros(batch, frames, dtype=torch.bool)
    for b, idx in enumerate(choice.tolist()):
        name = names[idx]
        if name == "none":
            continue
        if name in ("first", "last"):
            k = _randint(1, min(context, frames - 1), generator)
            mask[b] = strategy_mask(name, frames, k=k)
        elif name == "first-last":
            k = _randint(1, min(context, (frames - 1) // 2), generator)
            mask[b] = strategy_mask(name, frames, k=k)
        elif name == "every-k":
            k = usable_strides[_randint(0, len(usable_strides) - 1, generator)]
            mask[b] = strategy_mask(name, frames, k=k)
        else:  # random
            row = torch.rand(frames, generator=generator) < random_rate
            if bool(row.all()):
                row[_randint(0, frames - 1, generator)] = False
            mask[b] = row
    return mask.to(device)


@dataclass
class FrameMaskConfig:
    """Training mixture of frame-mask strategies (arguments of :func:`sample_frame_mask`)."""

    # relative probability per strategy; half the clips unconditional keeps text→video strong
    probs: dict[str, float] = field(
        default_factory=lambda: {
            "none": 0.5,
            "first": 0.2,
            "last": 0.05,
            "first-last": 0.1,
            "every-k": 0.05,
            "random": 0.1,
        }
    )
    max_context: int | None = None  # most given frames at an end; None: T // 2
    strides: tuple[int, ...] = (2, 3, 4)  # every-k strides to draw from
    random_rate: float = 0.5  # per-frame probability of being given under "random"

    def sample(
        self,
        batch: int,
        frames: int,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """``(B, T)`` bool masks drawn with this config."""
        return sample_frame_mask(
            batch,
            frames,
            generator=generator,
            probs=self.probs,
            max_context=self.max_context,
            strides=tuple(self.strides),
            random_rate=self.random_rate,
            device=device,
        )
