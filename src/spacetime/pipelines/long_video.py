"""Videos longer than the training window, by autoregressive extension.

A model trained on clips of ``W`` frames with frame-mask conditioning can continue a clip:
give it the last ``k`` frames as the first ``k`` of a new window and it generates the other
``W - k``. Repeating this makes a video of any length (the "prediction" mode of Video
Diffusion Models, Ho et al. 2022, Sec. 3.1, and of Diffusion Forcing / FIFO-style rollouts):

    window 0:  [f0 ............ f(W-1)]                       (text -> video, or given start)
    window 1:            [k given | W-k new]                  (conditioned on the last k)
    window 2:                       [k given | W-k new] ...

Each window after the first uses its own seed, ``mix_seed(seed, window)``, so the video
depends only on ``(prompt, seed, settings)``; window 0 uses ``seed`` itself, so a long video
starts with exactly the frames the pipeline makes for that seed. Only ``k`` frames of memory
carry across windows: identity and background can drift over long horizons, which
``spacetime eval`` measures (``identity_drift``, ``background_swim``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from spacetime.data.clip_dataset import mix_seed
from spacetime.errors import SpacetimeError
from spacetime.pipelines.video_pipeline import VideoPipeline


def generate_long(
    pipe: VideoPipeline,
    prompts: Sequence[str],
    *,
    seeds: Sequence[int],
    total_frames: int,
    context_frames: int | None = None,
    window: int | None = None,
    start: np.ndarray | None = None,
    **sampling: Any,
) -> np.ndarray:
    """Generate ``total_frames`` frames per prompt in overlapping windows.

    Args:
        pipe: a pipeline whose denoiser was trained with frame conditioning.
        prompts, seeds: one seed per prompt, as for :meth:`VideoPipeline.__call__`.
        total_frames: frames of the result (any number >= 1).
        context_frames: ``k``, frames of the previous window given to the next (1 <= k < W;
            default ``W // 2``: more context, more coherence, fewer new frames per call).
        window: ``W``, frames per sampler call (default: the pipeline's ``sample_frames``).
        start: optional uint8 (T0, H, W, 3) clip to continue: its last ``k`` frames seed the
            first window, and the result is the continuation only (``start`` not included).
        **sampling: passed to every pipeline call (``size``, ``steps``, ``guidance``,
            ``sampler``, ``progress``, ...).

    Returns:
        uint8 (B, total_frames, H, W, 3).
    """
    window = pipe.sample_frames if window is None else int(window)
    context_frames = max(1, window // 2) if context_frames is None else int(context_frames)
    if not 1 <= context_frames < window:
        raise SpacetimeError(
            f"context_frames must be in [1, window={window}); got {context_frames}"
        )
    if total_frames < 1:
        raise SpacetimeError(f"total_frames must be >= 1; got {total_frames}")
    for key in ("frames", "seeds", "image", "given_frames"):
        if key in sampling:
            raise SpacetimeError(f"generate_long sets {key!r} itself; do not pass it")
    prompts, seeds = list(prompts), [int(s) for s in seeds]
    if len(seeds) != len(prompts):
        raise SpacetimeError(f"need one seed per prompt; got {len(prompts)} and {len(seeds)}")

    videos = []
    for prompt, seed in zip(prompts, seeds, strict=True):
        if start is not None:
            start = np.asarray(start)
            if start.dtype != np.uint8 or start.ndim != 4 or len(start) < context_frames:
                raise SpacetimeError(
                    f"start must be uint8 (T0 >= {context_frames}, H, W, 3); got "
                    f"{start.dtype} {start.shape}"
                )
            clip: list[np.ndarray] = []
            context = list(start[-context_frames:])
        else:
            first = pipe([prompt], seeds=[seed], frames=window, **sampling)[0]  # (W, H, W, 3)
            clip, context = list(first), list(first[-context_frames:])
        index = 1
        while len(clip) < total_frames:
            given = dict(enumerate(context))
            chunk = pipe(
                [prompt],
                seeds=[mix_seed(seed, index)],
                frames=window,
                given_frames=given,
                **sampling,
            )[0]  # (W, H, W, 3); its first k frames are the context
            clip.extend(chunk[context_frames:])
            context = list(chunk[-context_frames:])
            index += 1
        videos.append(np.stack(clip[:total_frames]))
    return np.stack(videos)
