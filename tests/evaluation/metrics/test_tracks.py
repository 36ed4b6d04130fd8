import numpy as np

from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.tracks import TRACK_GRID, seed_points, track


def test_tracks_follow_the_motion_and_are_reborn_when_they_leave(pan):
    clip = AnalysisClip(pan(frames=12, size=64, step=(3, 0)), analysis_size=None)
    tracks = track(clip)
    assert tracks.positions.shape == (12, TRACK_GRID**2, 2)
    assert tracks.born[0].all()
    # content moves 3 px left per frame: surviving tracks move with it
    alive = ~tracks.born[1]
    step = tracks.positions[1, alive] - tracks.positions[0, alive]
    assert np.allclose(np.median(step, axis=0), [-3.0, 0.0], atol=0.3)
    # the leftmost column leaves the frame within a few frames and is re-seeded at its cell
    assert tracks.born[1:, 0].any()
    assert tracks.age[-1].max() == 11
    assert track(clip) is tracks  # cached


def test_seed_points_are_cell_centres():
    points = seed_points(40, 80, grid=2)
    np.testing.assert_allclose(points, [[20, 10], [60, 10], [20, 30], [60, 30]])
