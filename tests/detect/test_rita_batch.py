"""The all-pairs-at-once RITA scoring equals the per-pair reference, value for value."""

from __future__ import annotations

import numpy as np

from leaktrace.detect.rita import batch_scores, beacon_scores, finish_scores


def test_batch_scores_equal_per_pair_scores() -> None:
    rnd = np.random.default_rng(1)
    pairs = []
    for k in range(600):
        n = int(rnd.integers(1, 150))
        if k % 4 == 0:
            ts = np.cumsum(rnd.uniform(50, 70, n))  # jittered beacon
        elif k % 4 == 1:
            ts = rnd.uniform(0, 86_400, n)  # random
        elif k % 4 == 2:
            ts = np.round(rnd.uniform(0, 86_400, n) / 600) * 600  # repeated timestamps
        else:
            ts = np.cumsum(rnd.exponential(300, n))  # Poisson
        sizes = rnd.integers(100, 3000, n).astype(float) if k % 3 else np.full(n, 210.0)
        pairs.append((ts, sizes))
    ts = np.concatenate([p[0] for p in pairs])
    sizes = np.concatenate([p[1] for p in pairs])
    seg = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(pairs)])
    perm = rnd.permutation(len(ts))  # any order within and across pairs
    b = batch_scores(ts[perm], sizes[perm], seg[perm], seg[perm], len(pairs), 0.0, 86_401.0)
    for i, (t, s) in enumerate(pairs):
        assert int(b.distinct[i]) == len(np.unique(t))
        for min_ts in (0.0, 0.6):
            ref = beacon_scores(t, s, 0.0, 86_401.0, min_ts)
            got = finish_scores(b, i, min_ts)
            assert (ref is None) == (got is None), i
            if ref is not None and got is not None:
                assert ref.as_dict() == got.as_dict(), i


def test_segment_sort_equals_lexsort_even_where_the_combined_key_rounds() -> None:
    from leaktrace.detect.rita import _seg_sort

    rnd = np.random.default_rng(7)
    seg = rnd.integers(0, 2_000_000, 50_000)
    wide = rnd.uniform(0, 1e9, 50_000)  # the combined key cannot separate close values: exact fallback
    close = 1.7e9 + rnd.integers(0, 3, 50_000) * 1e-3  # ties and millisecond steps
    for segs in (seg, np.sort(seg)):  # any order, and grouped by segment as collected per pair
        for x in (wide, close, np.round(wide), np.zeros(50_000)):
            order = np.lexsort((x, segs))
            xs, sg = _seg_sort(x, segs)
            assert (xs == x[order]).all() and (sg == segs[order]).all()
    # values the combined key cannot separate (ulps of 1e9 in keys near 2e15): the exact fallback
    x = np.concatenate([[0.0], 1e9 + np.arange(30)[::-1] * 1.2e-7])
    s = np.full(31, 1_999_999)
    xs, sg = _seg_sort(x, s)
    assert (xs == np.sort(x)).all()
    assert _seg_sort(np.zeros(0), np.zeros(0, dtype=np.int64))[0].size == 0
