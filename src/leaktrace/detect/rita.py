"""RITA v5 beacon sub-scores, exactly as in ``activecm/rita`` ``analysis/beacons.go`` (see peers.md §3.2).

Pure functions over numpy arrays, so they are unit-tested on their own. One deliberate deviation: RITA bins
the histogram by hour, so a capture shorter than ~6 h scores 0 on duration and poorly on histogram (a known
quirk). We use ``bin_seconds = min(3600, span / 24)``: identical to RITA on a day of data, meaningful on a
short capture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BeaconScores:
    ts: float
    size: float
    hist: float
    dur: float
    total: float
    ts_skew: float
    ts_madm: float
    size_skew: float
    size_madm: float
    median_interval: float
    bars: int

    def as_dict(self) -> dict[str, float]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _quantiles(xs: np.ndarray, ps: tuple[float, ...]) -> list[float]:
    """Quantiles of a *sorted* array, linear interpolation (numpy's default), without numpy's overhead."""
    n = len(xs)
    out = []
    for p in ps:
        h = (n - 1) * p
        lo = int(h)
        hi = min(lo + 1, n - 1)
        out.append(float(xs[lo] + (h - lo) * (xs[hi] - xs[lo])))
    return out


def _skew_mad(x: np.ndarray, mad_default: float) -> tuple[float, float, float, float]:
    """(skewScore, madScore, bowley skew, MADM)."""
    xs = np.sort(x)
    q1, q2, q3 = _quantiles(xs, (0.25, 0.5, 0.75))
    iqr = q3 - q1
    skew = (q1 + q3 - 2 * q2) / iqr if iqr >= 10 and q2 not in (q1, q3) else 0.0
    skew_score = 1 - abs(skew)
    med = q2
    madm = _quantiles(np.sort(np.abs(xs - med)), (0.5,))[0]
    mad_score = max(0.0, (med - madm) / med) if med >= 1 else mad_default
    return skew_score, mad_score, skew, madm


def histogram(ts: np.ndarray, t0: float, span: float, bins: int = 24) -> tuple[np.ndarray, float]:
    bin_seconds = max(min(3600.0, span / bins), 1e-6)
    idx = np.clip(((ts - t0) // bin_seconds).astype(np.int64), 0, bins - 1)
    return np.bincount(idx, minlength=bins)[:bins], bin_seconds


def hist_score(
    counts: np.ndarray, mode_sensitivity: float = 0.05, bimodal_min_bars: int = 11, outlier_removal: int = 1
) -> float:
    mean = counts.mean()
    if mean <= 0:
        return 0.0
    cv = counts.std() / mean
    cv_score = 0.0 if cv > 1 else 1 - cv
    nonzero = counts[counts > 0]
    bars = len(nonzero)
    fit = 0.0
    if bars >= bimodal_min_bars:
        width = max(1, math.ceil(counts.max() * mode_sensitivity))
        buckets = np.bincount((nonzero // width).astype(np.int64))
        top = np.sort(buckets)[::-1]
        fit = float(top[0] + (top[1] if len(top) > 1 else 0)) / max(1, bars - outlier_removal)
    return min(1.0, max(cv_score, fit))


def dur_score(
    counts: np.ndarray,
    first: float,
    last: float,
    ds_min: float,
    ds_max: float,
    min_bars: int = 6,
    ideal_bars: int = 12,
) -> float:
    if int((counts > 0).sum()) < min_bars:
        return 0.0
    coverage = (last - first) / (ds_max - ds_min) if ds_max > ds_min else 0.0
    present = np.concatenate([counts > 0, counts > 0])
    best = run = 0
    for v in present:
        run = run + 1 if v else 0
        best = max(best, run)
    consistency = min(best, len(counts)) / ideal_bars
    return min(1.0, max(coverage, consistency))


def beacon_scores(
    ts: np.ndarray, sizes: np.ndarray, ds_min: float, ds_max: float, min_ts: float = 0.0
) -> BeaconScores | None:
    """The four sub-scores and the total for one pair; None when the pair is not eligible (< 4 timestamps)
    or its timing score is below ``min_ts`` (then the other sub-scores are not computed)."""
    ts = np.sort(np.asarray(ts, dtype=np.float64))
    uniq = np.unique(ts)
    if len(uniq) < 4:
        return None
    deltas = np.diff(ts)
    deltas = deltas[deltas > 0]
    if len(deltas) < 3:
        return None
    ts_skew_s, ts_mad_s, ts_skew, ts_madm = _skew_mad(deltas, 1.0)
    ts_score = round((ts_skew_s + ts_mad_s) / 2, 3)
    if ts_score < min_ts:
        return None
    sizes = np.asarray(sizes, dtype=np.float64)
    if len(sizes) >= 3:
        ds_skew_s, ds_mad_s, ds_skew, ds_madm = _skew_mad(sizes, 0.0)
        ds_score = round((ds_skew_s + ds_mad_s) / 2, 3)
    else:
        ds_score, ds_skew, ds_madm = 0.0, 0.0, 0.0
    span = ds_max - ds_min
    counts, _ = histogram(ts, ds_min, span)
    h = hist_score(counts)
    d = dur_score(counts, float(ts[0]), float(ts[-1]), ds_min, ds_max)
    total = round(0.25 * ts_score + 0.25 * ds_score + 0.25 * h + 0.25 * d, 3)
    return BeaconScores(
        float(ts_score),
        float(ds_score),
        round(float(h), 3),
        round(float(d), 3),
        float(total),
        float(ts_skew),
        float(ts_madm),
        float(ds_skew),
        float(ds_madm),
        float(np.median(deltas)),
        int((counts > 0).sum()),
    )


def bucketed(
    score: float, base: float = 0.5, low: float = 0.7, medium: float = 0.9, high: float = 1.0
) -> float:
    """RITA's ``calculateBucketedScore``: raw 0–1 → threat score 0 / 0.2–0.4 / 0.4–0.6 / 0.6–0.8."""
    if score < base:
        return 0.0
    if score < low:
        return 0.2 + 0.2 * (score - base) / (low - base)
    if score < medium:
        return 0.4 + 0.2 * (score - low) / (medium - low)
    return 0.6 + 0.2 * min(1.0, (score - medium) / (high - medium))


# -- all pairs at once -----------------------------------------------------------------------------------------
# The same sub-scores computed for every pair in one pass over flat arrays (values of all pairs concatenated,
# ``seg`` giving each value's pair). Elementwise the arithmetic is the scalar code's, so raw values agree; the
# final 3-decimal rounding and the gates are applied per candidate with Python's ``round`` (see
# :func:`finish_scores`), exactly as :func:`beacon_scores` does.


@dataclass(frozen=True)
class BatchScores:
    """Unrounded parts per pair (arrays of length ``pairs``); ``valid`` is False where the pair is not eligible."""

    valid: np.ndarray
    ts_skew_score: np.ndarray
    ts_mad_score: np.ndarray
    ts_skew: np.ndarray
    ts_madm: np.ndarray
    median_interval: np.ndarray
    size_skew_score: np.ndarray
    size_mad_score: np.ndarray
    size_skew: np.ndarray
    size_madm: np.ndarray
    size_n: np.ndarray
    hist: np.ndarray
    dur: np.ndarray
    bars: np.ndarray
    first: np.ndarray
    last: np.ndarray
    distinct: np.ndarray  # distinct timestamps per pair


def _seg_bounds(seg: np.ndarray, pairs: int) -> tuple[np.ndarray, np.ndarray]:
    n = np.bincount(seg, minlength=pairs).astype(np.int64)
    starts = np.zeros(pairs, dtype=np.int64)
    np.cumsum(n[:-1], out=starts[1:])
    return starts, n


def _seg_quantile(xs: np.ndarray, starts: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """Per-segment quantile of a segment-sorted array (the arithmetic of :func:`_quantiles`); NaN when empty."""
    out = np.full(len(n), np.nan)
    ok = n > 0
    nn = n[ok]
    h = (nn - 1) * p
    lo = h.astype(np.int64)
    hi = np.minimum(lo + 1, nn - 1)
    a = xs[starts[ok] + lo]
    b = xs[starts[ok] + hi]
    out[ok] = a + (h - lo) * (b - a)
    return out


def _seg_sort(x: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, seg)`` sorted by segment, then by value: the values ``np.lexsort((x, seg))`` gives, computed as one
    (unstable) sort of the combined key ``seg·scale + (x − min)``, several times faster on millions of values.
    Only the sorted values are used, so the order among equal values does not matter. Rounding of the combined
    key is monotonic, so it can only tie values it cannot tell apart; the result is checked and, if any segment
    is out of order, the exact lexsort is used instead."""
    if x.size == 0:
        return x, seg
    if np.isfinite(x).all():
        shifted = x - x.min()
        key = seg.astype(np.float64) * (float(shifted.max()) + 1.0) + shifted
        order = np.argsort(key)
        xs = x[order]
        same = seg[1:] == seg[:-1]
        if not (seg[1:] < seg[:-1]).any():  # grouped already (as collected per pair): the segments stay put
            if not (same & (xs[1:] < xs[:-1])).any():
                return xs, seg
        else:
            sg = seg[order]
            if not ((sg[1:] < sg[:-1]) | ((sg[1:] == sg[:-1]) & (xs[1:] < xs[:-1]))).any():
                return xs, sg
    order = np.lexsort((x, seg))
    return x[order], seg[order]


def _seg_skew_mad(
    x: np.ndarray, seg: np.ndarray, pairs: int, mad_default: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(skew score, MAD score, bowley skew, MADM, median, n) per segment, as :func:`_skew_mad`."""
    xs, sg = _seg_sort(x, seg)
    starts, n = _seg_bounds(sg, pairs)
    q1 = _seg_quantile(xs, starts, n, 0.25)
    q2 = _seg_quantile(xs, starts, n, 0.5)
    q3 = _seg_quantile(xs, starts, n, 0.75)
    iqr = q3 - q1
    use = (iqr >= 10) & (q2 != q1) & (q2 != q3)
    skew = np.zeros(pairs)
    np.divide(q1 + q3 - 2 * q2, iqr, out=skew, where=use)
    skew_score = 1 - np.abs(skew)
    dev = np.abs(xs - q2[sg])
    madm = _seg_quantile(_seg_sort(dev, sg)[0], starts, n, 0.5)
    big = q2 >= 1
    mad_score = np.full(pairs, float(mad_default))
    ratio = np.zeros(pairs)
    np.divide(q2 - madm, q2, out=ratio, where=big)
    mad_score[big] = np.maximum(0.0, ratio[big])
    # np.median of an even count is the mean of the two middle values
    median = np.full(pairs, np.nan)
    ok = n > 0
    k = (n[ok] - 1) // 2
    lo_v = xs[starts[ok] + k]
    hi_v = xs[starts[ok] + np.where(n[ok] % 2 == 0, k + 1, k)]
    median[ok] = (lo_v + hi_v) / 2
    return skew_score, mad_score, skew, madm, median, n


def batch_scores(
    ts: np.ndarray,
    sizes: np.ndarray,
    ts_seg: np.ndarray,
    size_seg: np.ndarray,
    pairs: int,
    ds_min: float,
    ds_max: float,
    bins: int = 24,
) -> BatchScores:
    """Sub-score parts of ``pairs`` pairs at once. ``ts``/``sizes`` are flat float arrays; ``ts_seg``/``size_seg``
    the pair index (0..pairs-1) of each value, in any order."""
    ts = np.asarray(ts, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.float64)
    ts_seg = np.asarray(ts_seg, dtype=np.int64)
    size_seg = np.asarray(size_seg, dtype=np.int64)
    t, sg = _seg_sort(ts, ts_seg)
    starts, n = _seg_bounds(sg, pairs)
    nonempty = n > 0
    first = np.full(pairs, np.nan)
    last = np.full(pairs, np.nan)
    first[nonempty] = t[starts[nonempty]]
    last[nonempty] = t[starts[nonempty] + n[nonempty] - 1]
    # intervals between sorted timestamps, zeros dropped
    d = np.diff(t)
    keep = (sg[1:] == sg[:-1]) & (d > 0)
    deltas, dseg = d[keep], sg[1:][keep]
    ts_skew_s, ts_mad_s, ts_skew, ts_madm, med, dn = _seg_skew_mad(deltas, dseg, pairs, 1.0)
    valid = dn >= 3  # ≥ 4 distinct timestamps
    sz_skew_s, sz_mad_s, sz_skew, sz_madm, _, sn = _seg_skew_mad(sizes, size_seg, pairs, 0.0)
    # histogram: counts per pair in ``bins`` equal bins over the dataset span
    span = ds_max - ds_min
    bin_seconds = max(min(3600.0, span / bins), 1e-6)
    idx = np.clip(((t - ds_min) // bin_seconds).astype(np.int64), 0, bins - 1)
    counts = np.bincount(sg * bins + idx, minlength=pairs * bins).reshape(pairs, bins)
    mean = counts.mean(axis=1)
    std = counts.std(axis=1)
    cv = np.zeros(pairs)
    np.divide(std, mean, out=cv, where=mean > 0)
    cv_score = np.where(cv > 1, 0.0, 1 - cv)
    bars = (counts > 0).sum(axis=1)
    width = np.maximum(1, np.ceil(counts.max(axis=1) * 0.05)).astype(np.int64)
    bucket = counts // width[:, None]
    nb = int(bucket.max()) + 1 if bucket.size else 1
    rows = np.repeat(np.arange(pairs), bins).reshape(pairs, bins)
    nz = counts > 0
    bcounts = np.bincount(rows[nz] * nb + bucket[nz], minlength=pairs * nb).reshape(pairs, nb)
    top = -np.sort(-bcounts, axis=1)
    top2 = top[:, 0] + (top[:, 1] if nb > 1 else 0)
    fit = np.where(bars >= 11, top2 / np.maximum(1, bars - 1), 0.0)
    hist = np.minimum(1.0, np.maximum(cv_score, fit))
    hist = np.where(mean > 0, hist, 0.0)
    # duration: coverage, or the longest run of non-empty bins (wrapping around)
    coverage = np.zeros(pairs)
    if ds_max > ds_min:
        coverage = (last - first) / (ds_max - ds_min)
    present = np.concatenate([nz, nz], axis=1)
    best = np.zeros(pairs, dtype=np.int64)
    run = np.zeros(pairs, dtype=np.int64)
    for j in range(present.shape[1]):
        run = np.where(present[:, j], run + 1, 0)
        best = np.maximum(best, run)
    consistency = np.minimum(best, bins) / 12
    dur = np.where(bars >= 6, np.minimum(1.0, np.maximum(coverage, consistency)), 0.0)
    return BatchScores(
        valid=valid & nonempty,
        ts_skew_score=ts_skew_s,
        ts_mad_score=ts_mad_s,
        ts_skew=ts_skew,
        ts_madm=ts_madm,
        median_interval=med,
        size_skew_score=sz_skew_s,
        size_mad_score=sz_mad_s,
        size_skew=sz_skew,
        size_madm=sz_madm,
        size_n=sn,
        hist=hist,
        dur=dur,
        bars=bars,
        first=first,
        last=last,
        distinct=np.where(nonempty, dn + 1, 0),
    )


def finish_scores(b: BatchScores, i: int, min_ts: float = 0.0) -> BeaconScores | None:
    """The :class:`BeaconScores` of pair ``i`` (None when not eligible or timing below ``min_ts``), with the
    scalar code's rounding."""
    if not b.valid[i]:
        return None
    ts_score = round((float(b.ts_skew_score[i]) + float(b.ts_mad_score[i])) / 2, 3)
    if ts_score < min_ts:
        return None
    if int(b.size_n[i]) >= 3:
        ds_score = round((float(b.size_skew_score[i]) + float(b.size_mad_score[i])) / 2, 3)
        ds_skew, ds_madm = float(b.size_skew[i]), float(b.size_madm[i])
    else:
        ds_score, ds_skew, ds_madm = 0.0, 0.0, 0.0
    h, d = float(b.hist[i]), float(b.dur[i])
    total = round(0.25 * ts_score + 0.25 * ds_score + 0.25 * h + 0.25 * d, 3)
    return BeaconScores(
        float(ts_score),
        float(ds_score),
        round(h, 3),
        round(d, 3),
        float(total),
        float(b.ts_skew[i]),
        float(b.ts_madm[i]),
        ds_skew,
        ds_madm,
        float(b.median_interval[i]),
        int(b.bars[i]),
    )
