"""Batch sizing against the time budget (pure arithmetic, no database)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from expandcontract.backfill.sizing import TARGET_FILL, BatchSizer

BUDGET = 0.2  # the default
LONGEST = 0.25  # what the default budget promises for the longest batch


def simulate(per_row: Sequence[float], jitter: float, seed: int = 15) -> list[float]:
    """Run the sizer on a simulated clock: batch ``i`` costs 5 ms plus ``per_row[i]`` a row,
    give or take ``jitter``; returns each batch's duration."""
    rng = random.Random(seed)
    sizer = BatchSizer(budget=BUDGET, size=1000, minimum=10)
    durations = []
    for cost in per_row:
        rows = sizer.size
        seconds = (0.005 + rows * cost) * rng.uniform(1 - jitter, 1 + jitter)
        durations.append(seconds)
        sizer.record(rows, seconds, 1.0)
    return durations


def test_noisy_batches_stay_within_the_promise_and_use_the_budget():
    for seed in range(5):
        durations = simulate([25e-6] * 300, jitter=0.25, seed=seed)
        assert max(durations) <= LONGEST, seed
        # Not bought by tiny batches: once ramped up, a batch takes about what the sizer aims at.
        settled = durations[20:]
        assert sum(settled) / len(settled) >= 0.8 * TARGET_FILL * BUDGET, seed


def test_rows_turning_twice_as_costly_do_not_break_the_promise():
    for seed in range(20):
        durations = simulate([25e-6] * 50 + [50e-6] * 50, jitter=0.1, seed=seed)
        assert max(durations) <= LONGEST, seed


def test_the_first_batches_ramp_up_within_the_budget():
    for cost in (1e-6, 25e-6, 150e-6):
        assert max(simulate([cost] * 30, jitter=0.0)) <= LONGEST


def test_fast_batches_grow_at_most_twofold():
    sizer = BatchSizer(budget=0.2, size=1000)
    assert sizer.record(1000, 0.001, 1.0) == 2000
    assert sizer.record(2000, 0.002, 1.0) == 4000


def test_near_the_target_a_quick_batch_grows_the_next_one_by_half_the_step():
    sizer = BatchSizer(budget=0.2, size=1000)
    sizer.record(1000, 0.001, 1.0)  # the quickest batch bounds the fixed cost per batch
    target = 0.2 * TARGET_FILL
    # At 0.6 of the aim the indicated step is 1 / 0.6 = 1.67x; timing noise is as likely as
    # spare time, so it takes half of that step (at 0.3 of the aim it takes the full 2x).
    assert sizer.record(2000, 0.6 * target, 1.0) == int(2000 * (1 + (1 / 0.6 - 1) / 2))
    assert sizer.record(1000, 0.3 * target, 1.0) == 2000


def test_a_batch_over_budget_shrinks_the_next_one_at_once():
    sizer = BatchSizer(budget=0.2, size=1000)
    sizer.record(1000, 0.01, 1.0)
    # 0.4 s for 2000 rows: aim at TARGET_FILL of the budget, i.e. 2000 * 0.2 * fill / 0.4 rows.
    assert sizer.record(2000, 0.4, 1.0) == int(2000 * 0.2 * TARGET_FILL / 0.4)


def test_skipped_rows_do_not_count_as_cheap_work():
    converting, skipping = BatchSizer(budget=0.2, size=1000), BatchSizer(budget=0.2, size=1000)
    for sizer in (converting, skipping):
        sizer.record(1000, 0.05, 1.0)
    converting.record(2000, 0.1, 1.0)
    skipping.record(2000, 0.1, 0.0)
    # Judged as if half its rows had needed work: it grows less, but does not collapse.
    assert converting.size > skipping.size > 1000


def test_size_stays_within_bounds():
    sizer = BatchSizer(budget=0.2, size=50, minimum=10, maximum=3000)
    assert sizer.record(50, 5.0, 1.0) == 10
    for _ in range(20):
        sizer.record(sizer.size, 0.0001, 1.0)
    assert sizer.size == 3000
