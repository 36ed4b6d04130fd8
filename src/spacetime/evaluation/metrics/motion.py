"""Motion metrics from the dense flow: ``motion_smoothness`` (jerk) and ``dynamic_degree``.

Velocities are followed along the motion path of each pixel ``x`` of frame ``t``:

- incoming ``v_{t-1}(x) = -B_{t-1}(x)`` (how ``x`` arrived from frame ``t - 1``),
- current ``v_t(x) = F_t(x)``,
- outgoing ``v_{t+1}(x) = F_{t+1}(x + F_t(x))`` (where the point goes next),

all in pixels per frame, so the finite differences below are motion-compensated.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.photometric import warp_residual

STRIDE = 4
"""Motion statistics are computed on every STRIDE-th pixel in each direction (flow is smooth
at that scale and 4096 samples of a 256x256 frame pin down a mean; 16x less work). A
multiple of 2, the subsampling of :meth:`VideoFlow.backward_valid`."""

DYNAMIC_TOP_FRACTION = 0.05
"""dynamic_degree averages the fastest 5 % of pixels (as VBench's dynamic degree does), so a
small moving subject in front of a still camera still counts as motion ..."""

DYNAMIC_STRIDE = 2
"""... sampled on every DYNAMIC_STRIDE-th pixel (small subjects are not skipped)."""

EVIDENCE_BLOCK = 8
"""Motion evidence is weighed on blocks of EVIDENCE_BLOCK x EVIDENCE_BLOCK analysis pixels."""

NOISE_RATIO = 1.6
"""The most that flow fitted to pure noise can explain: with i.i.d. noise of variance v in
each frame, the change in place has energy 2 v, and bilinear warping by a sub-pixel flow
keeps at least a quarter of frame t+1's noise (half a pixel off on both axes), so what the
flow leaves is at least 1.25 v: a ratio of at most 2 / 1.25 = 1.6."""


@dataclass(frozen=True)
class VelocityTriplet:
    """Velocities along the path of sampled pixels of frame ``t`` (``(h', w', 2)`` px/frame
    each) and ``valid`` ``(h', w')`` bool, where all three are trusted (forward–backward
    tests)."""

    incoming: np.ndarray
    current: np.ndarray
    outgoing: np.ndarray
    valid: np.ndarray


def velocity_triplet(clip: AnalysisClip, t: int) -> VelocityTriplet:
    """The :class:`VelocityTriplet` at frame ``t`` (``1 <= t <= T - 3``), on every
    :data:`STRIDE`-th pixel: ``(h / STRIDE, w / STRIDE, 2)`` fields."""
    assert 1 <= t <= clip.num_transitions - 2, t
    flow, s = clip.flow, STRIDE
    before, now, after = flow[t - 1], flow[t], flow[t + 1]
    current = now.forward[::s, ::s]  # (h', w', 2)
    target = flow.grid[::s, ::s] + current  # where each sampled point goes on frame t + 1
    # Sample the next flow and its validity there (remap costs per output pixel: cheap).
    outgoing = cv2.remap(
        after.forward, target, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    after_valid = cv2.remap(after.valid.view(np.uint8), target, None, cv2.INTER_NEAREST) > 0
    back_valid = flow.backward_valid(t - 1)[:: s // 2, :: s // 2]  # stored at stride 2
    valid = now.valid[::s, ::s] & back_valid & after_valid
    return VelocityTriplet(-before.backward[::s, ::s], current, outgoing, valid)


def motion_smoothness(clip: AnalysisClip) -> np.ndarray:
    """Mean jerk of the motion field per transition, ``(T - 1,)`` in %diag / frame^3.

    Jerk is the third time derivative of position; with the velocities of the module
    docstring its finite difference is ``j_t = v_{t+1} - 2 v_t + v_{t-1}``. Entry ``t`` is the
    mean ``|j_t|`` over the pixels (every :data:`STRIDE`-th) whose whole path is visible.
    Constant velocity *and* constant acceleration (a thrown ball, a smooth camera ramp) give
    0; stutter, jitter and speed jumps do not. Transitions without a neighbour on each side
    (the first and the last) are 0.
    """
    out = np.zeros(clip.num_transitions)
    for t in range(1, clip.num_transitions - 1):
        v = velocity_triplet(clip, t)
        if not v.valid.any():
            continue
        jerk = v.outgoing - 2.0 * v.current + v.incoming  # (h', w', 2)
        jerk = jerk[v.valid]
        magnitude = np.sqrt((jerk * jerk).sum(axis=-1))
        out[t] = float(clip.to_percent_diag(magnitude.mean()))
    return out


def motion_evidence(clip: AnalysisClip, t: int, shape: tuple[int, int]) -> np.ndarray:
    """``shape`` float32 map in [0, 1] (nearest-upsampled from blocks of
    :data:`EVIDENCE_BLOCK` pixels): how much transition ``t`` shows motion there, from the
    ratio ``q = E[(I_t - I_t+1)^2] / E[r_t^2]`` of the change in place to the change the flow
    leaves: 0 for ``q <= NOISE_RATIO`` (what noise alone can give), 1 for
    ``q >= 2 NOISE_RATIO``, linear in between.

    Sensor noise, compression noise and flicker change a still frame without any motion
    explaining the change (``q <= NOISE_RATIO``), so the flow DIS fits to them is no
    evidence of motion; moving texture changes a lot in place and almost nothing along its
    flow (``q >> 1``); an exact repeat has no change at all (``q = 0 / 0``, no evidence).
    """
    # Every second pixel of each axis: block energies need no more, at a quarter of the cost.
    residual = warp_residual(clip, t)[0][::2, ::2]
    still = clip.gray[t, ::2, ::2] - clip.gray[t + 1, ::2, ::2]
    height, width = clip.gray.shape[1:]
    blocks = (max(1, width // EVIDENCE_BLOCK), max(1, height // EVIDENCE_BLOCK))
    change = cv2.resize(still * still, blocks, interpolation=cv2.INTER_AREA)
    left = cv2.resize(residual * residual, blocks, interpolation=cv2.INTER_AREA)
    ratio = change / np.maximum(left, 1e-6)
    evidence = np.clip((ratio - NOISE_RATIO) / NOISE_RATIO, 0.0, 1.0)
    evidence[change <= 0.0] = 0.0
    return cv2.resize(evidence, shape[::-1], interpolation=cv2.INTER_NEAREST)


def dynamic_degree(clip: AnalysisClip) -> np.ndarray:
    """Amount of motion per transition, ``(T - 1,)`` in %diag / frame (not a failure metric).

    The mean flow magnitude of the fastest :data:`DYNAMIC_TOP_FRACTION` of the pixels (every
    :data:`DYNAMIC_STRIDE`-th in each direction), counting only motion the frames show
    (each speed weighted by :func:`motion_evidence`). High for a moving camera or
    subject, ~0 for a frozen clip -- also when every frame of the freeze carries fresh
    sensor or compression noise, which DIS would otherwise read as motion -- so a clip
    cannot look perfectly coherent just by not moving.
    """
    out = np.zeros(clip.num_transitions)
    for t in range(clip.num_transitions):
        flow = clip.flow[t].forward[::DYNAMIC_STRIDE, ::DYNAMIC_STRIDE]
        speed = np.sqrt((flow * flow).sum(axis=-1))
        speed = (speed * motion_evidence(clip, t, speed.shape)).ravel()
        count = max(1, round(DYNAMIC_TOP_FRACTION * speed.size))
        fastest = np.partition(speed, speed.size - count)[speed.size - count :]
        out[t] = float(clip.to_percent_diag(fastest.mean()))
    return out
