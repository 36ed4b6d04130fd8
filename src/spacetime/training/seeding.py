"""Named random streams derived from ``(seed, step, shard, ...)``.

Every random draw of a training step (data order, augmentation, caption dropout, frame masks,
diffusion noise and timesteps, dropout inside the network) comes from a generator seeded by
:func:`derive_seed`. Nothing carries over from one step to the next, so

- a resumed run needs no saved RNG state: the step number is enough (bit-exact resume);
- the result does not depend on how the shards of a step are spread over processes: shard
  ``k`` of step ``s`` draws the same numbers on one process or on eight (edm2 makes the same
  choice with per-sample seeds).
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

__all__ = ["derive_seed", "stream"]


def derive_seed(seed: int, *keys: int | str) -> int:
    """A 63-bit seed from ``seed`` and the stream ``keys`` (ints >= 0 or names).

    Uses NumPy's ``SeedSequence`` hash, so distinct key tuples give independent streams
    (unlike ``seed + step``, where seed 1 at step 0 would replay seed 0 at step 1).
    """
    words = [int(seed)]
    for key in keys:
        words.append(zlib.crc32(key.encode()) if isinstance(key, str) else int(key))
    if any(w < 0 for w in words):
        raise ValueError(f"seed and keys must be >= 0; got {words}")
    state = np.random.SeedSequence(words).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def stream(seed: int, *keys: int | str, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with :func:`derive_seed` of the keys."""
    return torch.Generator(device=device).manual_seed(derive_seed(seed, *keys))
