"""Best of N: variants ordered by oracle adherence, then by the evaluator's coherence rank."""

from __future__ import annotations

import numpy as np
import pytest

from spacetime.data import shapes
from spacetime.errors import SpacetimeError
from spacetime.pipelines.best_of import rank_variants


def test_the_variant_that_follows_its_caption_and_holds_together_wins() -> None:
    clip = shapes.generate(7, size=64, frames=12)
    truth = clip.video  # (T, H, W, 3) uint8
    mirrored = truth.copy()
    mirrored[6:] = truth[6:, :, ::-1]  # the objects jump to the other side half-way
    frozen = np.repeat(truth[:1], len(truth), axis=0)  # never moves
    ranked = rank_variants([mirrored, frozen, truth], clip.caption)
    assert ranked[0].index == 2
    assert ranked[0].adherence == 1.0 and ranked[0].rank == 1
    # without a scorable caption only coherence decides, and a frozen clip cannot win
    free = rank_variants([frozen, mirrored, truth], "a calm scene")
    assert free[0].index == 2 and all(v.adherence is None for v in free)
    with pytest.raises(SpacetimeError, match="at least one variant"):
        rank_variants([], clip.caption)
