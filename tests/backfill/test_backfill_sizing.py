"""Batch sizing against the time budget (pure arithmetic, no database)."""

from __future__ import annotations

from expandcontract.backfill.sizing import TARGET_FILL, BatchSizer


def test_fast_batches_grow_at_most_twofold():
    sizer = BatchSizer(budget=0.2, size=1000)
    assert sizer.record(1000, 0.001, 1.0) == 2000
    assert sizer.record(2000, 0.002, 1.0) == 4000


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
