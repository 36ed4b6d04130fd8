"""Scoring a video against its ShapesWorld caption: :func:`score_video` -> :class:`OracleReport`.

No ground truth is needed: objects are found by colour (:mod:`.segment`), linked over time
(:mod:`.track`) and matched to the caption's clauses by colour (Hungarian assignment on the
number of sightings of each clause's colour). Tolerances come from :mod:`.thresholds`.

Scores (1 is perfect for the higher-is-better ones, 0 for ``teleport_rate``):

- ``adherence``: share of the caption's objects that are *present* (seen in at least
  ``present_frac`` of the frames) with the caption's shape, size class (when the caption says
  it) and motion (:func:`~.track.classify_motion`; not checked on one-frame clips);
- ``teleport_rate``: share of consecutive-frame transitions of the caption's objects whose
  displacement disagrees with their neighbours (:func:`~.track.teleports`); None when there
  is no transition (no object found, or one frame), so a blank video does not score 0;
- ``identity_consistency``: mean over present objects of the share of clean sightings whose
  colour, shape and size class equal the object's most common ones (0 when none is present);
- ``background_stability``: share of background samples (pixels away from objects and the
  pillar, every frame) within ``background_tol`` gray levels of their temporal median;
- ``occlusion_reappearance``: share of "behind a pillar" objects that come back
  (:func:`reappearance`); None when the caption has no pillar;
- ``physics``: share of three-frame windows without a velocity change away from walls
  (:func:`~.track.physics_checks`; None when there is no window, e.g. no object found).

The details also give the background kind seen (:func:`~.background.classify_background`)
next to the caption's, the pillar box and the number of tracks no clause claimed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from spacetime.contracts.frames import check_frames
from spacetime.data.shapes.grammar import ParsedObject, parse_caption
from spacetime.errors import SpacetimeError
from spacetime.evaluation.oracle.background import background_stability, classify_background
from spacetime.evaluation.oracle.segment import Detection, detect, find_pillar, palette_labels
from spacetime.evaluation.oracle.thresholds import Thresholds
from spacetime.evaluation.oracle.track import (
    Track,
    classify_motion,
    link,
    physics_checks,
    teleports,
)


@dataclass
class Reappearance:
    """How an object behind the pillar came back: ``ok``, why not, and the position error
    (px) of its return against constant velocity."""

    ok: bool
    reason: str
    error_px: float | None = None


@dataclass
class ObjectReport:
    """What the oracle found for one clause of the caption (``None``: could not be checked)."""

    clause: str
    color: str
    present: bool
    frames_seen: int
    shape: str | None
    size: str | None
    motion: str | None
    checks: dict[str, bool | None]
    adherent: bool
    identity_consistency: float | None
    teleports: int
    transitions: int
    physics_violations: int
    physics_checks: int
    reappearance: Reappearance | None = None


@dataclass
class OracleReport:
    """Scores of one video against its caption (module docstring) and per-object details."""

    adherence: float
    teleport_rate: float | None
    identity_consistency: float
    background_stability: float
    occlusion_reappearance: float | None
    physics: float | None
    objects: list[ObjectReport] = field(default_factory=list)
    pillar: tuple[int, int, int, int] | None = None
    extra_objects: int = 0
    background: str | None = None
    background_expected: str | None = None

    @property
    def attributes(self) -> dict[str, float | None]:
        """Which part of the caption the video follows, attribute by attribute, in [0, 1]
        (None where the caption or the clip has nothing to check):

        - ``background``: the background kind seen is the caption's (1 or 0);
        - ``count``: every object of the caption is present and nothing else is (1 or 0);
        - ``colour``: share of the caption's objects present in their colour;
        - ``shape`` / ``size`` / ``motion``: share of the caption's objects (those whose size
          the caption says, for ``size``; clips of 2+ frames, for ``motion``) drawn with it,
          found by colour — so with several objects, ``shape`` is also attribute *binding*
          (the red one is the square);
        - ``pillar``: share of the objects behind a pillar that come back (occlusion).
        """

        def share(values: list[bool | None]) -> float | None:
            known = [bool(v) for v in values if v is not None]
            return float(np.mean(known)) if known else None

        objects = self.objects
        return {
            "background": float(self.background == self.background_expected),
            "count": float(all(o.present for o in objects) and self.extra_objects == 0),
            "colour": share([o.present for o in objects]),
            "shape": share([o.checks["shape"] is True for o in objects]),
            "size": share([o.checks["size"] for o in objects]),
            "motion": share([o.checks["motion"] for o in objects]),
            "pillar": share([o.reappearance.ok for o in objects if o.reappearance is not None]),
        }

    def to_dict(self) -> dict[str, Any]:
        """Flat scores, then ``objects`` (per clause) and ``details`` (JSON-serialisable)."""
        return {
            "adherence": self.adherence,
            "teleport_rate": self.teleport_rate,
            "identity_consistency": self.identity_consistency,
            "background_stability": self.background_stability,
            "occlusion_reappearance": self.occlusion_reappearance,
            "physics": self.physics,
            "attributes": self.attributes,
            "objects": [asdict(o) for o in self.objects],
            "details": {
                "pillar": list(self.pillar) if self.pillar else None,
                "extra_objects": self.extra_objects,
                "background": self.background,
                "background_expected": self.background_expected,
            },
        }


def _match(clauses: tuple[ParsedObject, ...], tracks: list[Track]) -> list[Track | None]:
    """The track of each clause: most sightings of the clause's colour, one track per clause."""
    if not tracks:
        return [None] * len(clauses)
    from scipy.optimize import linear_sum_assignment  # slow to import; needed only here

    counts = np.asarray([[t.count(c.color) for t in tracks] for c in clauses], np.float64)
    rows, cols = linear_sum_assignment(-counts)
    out: list[Track | None] = [None] * len(clauses)
    for i, j in zip(rows, cols, strict=False):
        if counts[i, j] > 0:
            out[i] = tracks[j]
    return out


def identity_consistency(track: Track) -> float:
    """Share of clean sightings whose colour, shape and size class are the track's usual ones."""
    dets = track.clean()
    usual = {a: track.majority(a) for a in ("color", "shape", "size")}
    same = [
        all(getattr(d, a) == v for a, v in usual.items() if v is not None and getattr(d, a))
        for d in dets
    ]
    return float(np.mean(same))


def _side(d: Detection, pillar: tuple[int, int, int, int]) -> int:
    """-1 left of the pillar, +1 right of it, 0 overlapping."""
    if d.box[2] <= pillar[0]:
        return -1
    return 1 if d.box[0] >= pillar[2] else 0


def _common_slope_gap(before: list[Detection], after: list[Detection]) -> float:
    """Distance (px) between the two sides' constant-velocity lines at the same time.

    Fits ``p = a_side + v t`` per axis with one velocity ``v`` for both sides (least squares
    on the within-side spread; only one side needs two sightings) and returns
    ``|a_after - a_before|``: zero when the object came back where constant velocity puts it.
    """
    groups = [before, after]
    t = [np.asarray([d.t for d in g], np.float64) for g in groups]
    p = [np.asarray([d.center for d in g], np.float64) for g in groups]  # (n, 2) each
    tc = [ti - ti.mean() for ti in t]
    sxx = sum(float(x @ x) for x in tc)
    v = sum(x @ (pi - pi.mean(axis=0)) for x, pi in zip(tc, p, strict=False)) / sxx  # (2,)
    a = [pi.mean(axis=0) - v * ti.mean() for pi, ti in zip(p, t, strict=False)]
    return float(np.hypot(*(a[1] - a[0])))


def reappearance(
    track: Track | None,
    clause: ParsedObject,
    pillar: tuple[int, int, int, int] | None,
    limits: Thresholds,
) -> Reappearance:
    """Did the object pass behind the pillar and come back, the same, where it should?

    Needs clean sightings on the side the motion starts from and, later, on the far side
    (three at least, two on one side), the same colour, shape and size class on both sides,
    no sighting over the pillar in between (that would be in front of it), and a gap between
    the two sides' constant-velocity lines (:func:`_common_slope_gap`) below ``reappear_tol``.
    """
    if pillar is None:
        return Reappearance(False, "no pillar found in the video")
    if track is None:
        return Reappearance(False, "object not found")
    sign = 1 if clause.motion == "moves right" else -1
    clean = [track.sightings[t] for t in track.frames if track.sightings[t].clean]
    before = [d for d in clean if _side(d, pillar) == -sign]
    if not before:
        return Reappearance(False, "never seen clear of the pillar before passing it")
    first_hidden = max(d.t for d in before)
    after = [d for d in clean if _side(d, pillar) == sign and d.t > first_hidden]
    if not after:
        return Reappearance(False, "does not come back after the pillar")
    if len(before) + len(after) < 3:
        return Reappearance(False, "too few clear sightings to check constant velocity")
    t_back = min(d.t for d in after)
    typical = float(np.median([d.area for d in before + after]))
    for t in range(first_hidden + 1, t_back):
        d = track.sightings.get(t)
        if d is not None and d.area >= 0.5 * typical and _side(d, pillar) == 0:
            inside = d.box[0] >= pillar[0] - 1 and d.box[2] <= pillar[2] + 1
            if inside:
                return Reappearance(False, f"drawn in front of the pillar at frame {t}")
    for attr in ("color", "shape", "size"):
        was = Track({d.t: d for d in before}).majority(attr)
        now = Track({d.t: d for d in after}).majority(attr)
        if was is not None and now is not None and was != now:
            return Reappearance(False, f"comes back with another {attr}: {was} -> {now}")
    error = _common_slope_gap(before, after)
    if error > limits.reappear_tol:
        return Reappearance(False, f"comes back {error:.1f} px off its path", error)
    return Reappearance(True, "comes back as expected", error)


def _present(track: Track | None, color: str, n_frames: int, limits: Thresholds) -> bool:
    need = max(1, math.ceil(limits.present_frac * n_frames))
    return track is not None and track.count(color) >= need


def _object_report(
    clause: ParsedObject,
    track: Track | None,
    pillar: tuple[int, int, int, int] | None,
    limits: Thresholds,
    shape_hw: tuple[int, int, int],
) -> ObjectReport:
    """Checks of one caption clause against its track (None: not found)."""
    n_frames, height, width = shape_hw
    present = _present(track, clause.color, n_frames, limits)
    shape = track.majority("shape") if track else None
    size = track.majority("size") if track else None
    motion = classify_motion(track, limits) if track else None
    checks: dict[str, bool | None] = {
        "present": present,
        "shape": (shape == clause.shape) if shape is not None else None,
        "size": (size == clause.size) if clause.size is not None else None,
        "motion": (motion == clause.motion) if n_frames >= 2 else None,
    }
    if not present:
        checks = {k: (False if v is not None else None) for k, v in checks.items()}
    tel, trans = teleports(track, limits) if track else (0, 0)
    bad, n_checks = physics_checks(track, limits, height, width) if track else (0, 0)
    return ObjectReport(
        clause=clause.phrase,
        color=clause.color,
        present=present,
        frames_seen=len(track.sightings) if track else 0,
        shape=shape,
        size=size,
        motion=motion,
        checks=checks,
        adherent=present and all(v is not False for v in checks.values()),
        identity_consistency=identity_consistency(track) if track and present else None,
        teleports=tel,
        transitions=trans,
        physics_violations=bad,
        physics_checks=n_checks,
        reappearance=reappearance(track, clause, pillar, limits) if clause.behind_pillar else None,
    )


def score_video(frames: np.ndarray, caption: str, *, fps: float = 8.0) -> OracleReport:
    """Score ``frames`` uint8 (T, H, W, 3) against a ShapesWorld ``caption``.

    ``fps`` (frames/second) sets the expected speeds: ShapesWorld speeds are quoted at 8 fps.
    :class:`SpacetimeError` if the caption is not of ShapesWorld form or the frames are not a
    uint8 video.
    """
    frames = check_frames(frames, what="score_video frames", min_side=8, needs="scoring")
    parsed = parse_caption(caption)
    if not (isinstance(fps, (int, float)) and fps > 0):
        raise SpacetimeError(f"fps must be > 0 frames/second, got {fps!r}")
    n_frames, height, width = frames.shape[:3]
    limits = Thresholds.for_video(min(height, width), float(fps))
    pillar = find_pillar(frames)
    labelled = palette_labels(frames)  # labels, coverage: (T, H, W) each
    tracks = link(detect(frames, limits, pillar, labelled), limits)
    matched = _match(parsed.objects, tracks)
    reports = [
        _object_report(clause, track, pillar, limits, (n_frames, height, width))
        for clause, track in zip(parsed.objects, matched, strict=True)
    ]
    stability, median = background_stability(frames, pillar, limits, labelled)
    transitions = sum(r.transitions for r in reports)
    checks = sum(r.physics_checks for r in reports)
    identities = [r.identity_consistency for r in reports if r.identity_consistency is not None]
    occluded = [r.reappearance.ok for r in reports if r.reappearance is not None]
    return OracleReport(
        adherence=float(np.mean([r.adherent for r in reports])),
        teleport_rate=sum(r.teleports for r in reports) / transitions if transitions else None,
        identity_consistency=float(np.mean(identities)) if identities else 0.0,
        background_stability=stability,
        occlusion_reappearance=float(np.mean(occluded)) if occluded else None,
        physics=1.0 - sum(r.physics_violations for r in reports) / checks if checks else None,
        objects=reports,
        pillar=pillar,
        extra_objects=len(tracks) - sum(t is not None for t in matched),
        background=classify_background(median),
        background_expected=parsed.background,
    )
