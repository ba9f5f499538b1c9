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
