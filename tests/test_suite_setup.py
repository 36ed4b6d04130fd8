"""The suite's own set-up (tests/conftest.py): the thread count it promises, the seeded RNG."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def test_torch_runs_the_thread_count_the_environment_names() -> None:
    # conftest sets OMP_NUM_THREADS=1 unless the caller chose a count; torch reads it when first
    # imported, so an import of torch before that line would silently run 2 threads per worker.
    threads = min(int(os.environ["OMP_NUM_THREADS"]), int(os.environ["MKL_NUM_THREADS"]))
    assert torch.get_num_threads() == threads


def test_every_test_starts_from_the_same_global_rng_state() -> None:
    # The first draws of this test, from the global generators the autouse fixture seeded...
    drawn = (torch.rand(3), np.random.rand(3), random.random())
    # ...equal those of fresh generators seeded with 0, whatever ran before in this worker.
    assert torch.equal(drawn[0], torch.rand(3, generator=torch.Generator().manual_seed(0)))
    assert np.array_equal(drawn[1], np.random.RandomState(0).rand(3))
    assert drawn[2] == random.Random(0).random()
