"""``edge_shimmer``: instability of the edge map after motion compensation."""

from __future__ import annotations

import numpy as np

from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.photometric import compensated_next


def edge_shimmer(clip: AnalysisClip) -> np.ndarray:
    """Motion-compensated change of the edge map per transition, ``(T - 1,)``, dimensionless.

    With ``E_t`` the Sobel gradient magnitude of frame ``t`` and ``E'_t`` the edge map of frame
    ``t + 1`` warped back along the forward flow, over the visible pixels ``V``:

        shimmer_t = sum_V |E_t - E'_t| / sum_V (E_t + E'_t)

    the fraction of edge energy that appears, vanishes or moves between two frames once the
    motion is accounted for: 0 for edges that move rigidly, up to 1 for edges that are
    unrelated from one frame to the next (aliasing, boiling texture, jittering contours).
    """
    out = np.zeros(clip.num_transitions)
    edges = clip.edges
    for t in range(clip.num_transitions):
        pair = clip.flow[t]
        if not pair.valid.any():
            continue
        current = edges[t][pair.valid]
        compensated = compensated_next(clip, t)[..., 1][pair.valid]
        energy = float((current + compensated).sum())
        out[t] = float(np.abs(current - compensated).sum() / energy) if energy > 0 else 0.0
    return out
