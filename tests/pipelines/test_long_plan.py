"""Window plans for long videos: frames committed once, final context, windows within W."""

from __future__ import annotations

import pytest

from spacetime.errors import SpacetimeError
from spacetime.pipelines.long_plan import Window, autoregressive_plan, check_plan, keyframe_plan


def test_plans_commit_every_frame_once_with_final_context() -> None:
    for total in (1, 3, 4, 5, 9, 17, 40, 128, 300):
        for window in (3, 4, 16):
            check_plan(keyframe_plan(total, window), total)
            for overlap in range(1, window):
                check_plan(autoregressive_plan(total, window, overlap), total)
    plan = autoregressive_plan(20, 8, 4)
    assert [w.frames[0] for w in plan] == [0, 4, 8, 12]
    assert plan[1].given == (4, 5, 6, 7) and plan[-1].commit == (16, 17, 18, 19)
    keys = keyframe_plan(128, 16)
    assert keys[0].frames == (0, 15, 30, 45, 60, 75, 90, 105, 120, 127)  # the end comes first
    assert [w.given for w in keys[1:3]] == [(0, 15), (15, 30)]  # fills: both ends given
    assert len(keys) == 10 and keys[-1].frames == tuple(range(120, 128))
    assert keyframe_plan(300, 16)[0].frames == (0, 225, 299)  # 15² apart: two levels of fills


def test_given_is_every_frame_the_window_does_not_commit() -> None:
    window = Window(frames=(0, 3, 6, 9), commit=(3, 6))
    assert window.given == (0, 9)
    assert Window((4, 5), (4, 5)).given == ()


def test_autoregressive_windows_by_hand() -> None:
    # W = 4, overlap 2, 11 frames: starts 0, 2, 4, 6, then 7 (the last window stays inside
    # the video, so it is given 3 frames instead of 2).
    plan = autoregressive_plan(11, 4, 2)
    assert [(w.frames, w.commit) for w in plan] == [
        ((0, 1, 2, 3), (0, 1, 2, 3)),
        ((2, 3, 4, 5), (4, 5)),
        ((4, 5, 6, 7), (6, 7)),
        ((6, 7, 8, 9), (8, 9)),
        ((7, 8, 9, 10), (10,)),
    ]
    assert plan[-1].given == (7, 8, 9)
    # A video no longer than the window is one window; overlap W - 1 adds one frame a call.
    assert autoregressive_plan(3, 8, 4) == [Window((0, 1, 2), (0, 1, 2))]
    assert [w.commit for w in autoregressive_plan(6, 3, 2)] == [(0, 1, 2), (3,), (4,), (5,)]


def test_keyframe_windows_by_hand() -> None:
    # 10 frames, W = 4: keyframes 3 apart (0, 3, 6, 9) fit one window; 3 fills of 4 frames.
    plan = keyframe_plan(10, 4)
    assert [(w.frames, w.commit) for w in plan] == [
        ((0, 3, 6, 9), (0, 3, 6, 9)),
        ((0, 1, 2, 3), (1, 2)),
        ((3, 4, 5, 6), (4, 5)),
        ((6, 7, 8, 9), (7, 8)),
    ]
    # Fewer frames than the window: one window that decides them all.
    assert keyframe_plan(4, 16) == [Window((0, 1, 2, 3), (0, 1, 2, 3))]
    assert keyframe_plan(1, 3) == [Window((0,), (0,))]


@pytest.mark.parametrize("window", [3, 4, 5, 16])
def test_no_window_holds_more_frames_than_the_model_sees(window: int) -> None:
    # The last frame is a keyframe besides those `stride` apart: it must fit too.
    for total in range(1, 400):
        for plan in (keyframe_plan(total, window), autoregressive_plan(total, window, 1)):
            assert max(len(w.frames) for w in plan) <= window, (total, window)
    # 11 frames, W = 4: keys 0, 3, 6, 9 plus 10 would be 5 frames; 9 apart instead.
    assert keyframe_plan(11, 4)[0].frames == (0, 9, 10)


def test_check_plan_catches_a_broken_plan() -> None:
    check_plan([Window((0, 1), (0, 1)), Window((1, 2), (2,))], 3)
    with pytest.raises(AssertionError):  # frame 2 given before any window decided it
        check_plan([Window((0, 2), (0,)), Window((1, 2), (1, 2))], 3)
    with pytest.raises(AssertionError):  # frame 1 decided twice
        check_plan([Window((0, 1), (0, 1)), Window((1, 2), (1, 2))], 3)
    with pytest.raises(AssertionError):  # frame 3 never decided
        check_plan([Window((0, 1, 2), (0, 1, 2))], 4)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(SpacetimeError, match="total_frames must be >= 1; got 0"):
        autoregressive_plan(0, 4, 2)
    with pytest.raises(SpacetimeError, match="window must be >= 2 frames; got 1"):
        keyframe_plan(8, 1)
    with pytest.raises(SpacetimeError, match=r"overlap must be in \[1, window=4\); got 4"):
        autoregressive_plan(8, 4, 4)
    with pytest.raises(SpacetimeError, match=r"overlap must be in \[1, window=4\); got 0"):
        autoregressive_plan(8, 4, 0)
    with pytest.raises(SpacetimeError, match="keyframes need a window of >= 3 frames; got 2"):
        keyframe_plan(8, 2)
