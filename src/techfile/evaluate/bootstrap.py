"""Stratified bootstrap confidence intervals, vectorised: resampled counts instead of resampled rows.

Resampling n rows with replacement from a stratum only changes how many times each distinct row occurs, and
those numbers follow a multinomial distribution. So each resample is drawn at once as multinomial counts over
the distinct (stratum, label, prediction, score level) keys of each stratum — the exact distribution of the
row bootstrap — and every metric of every slice is computed from the weighted counts: confusion counts for
the prediction metrics, label histograms over score levels for AUROC, per-bin sums for calibration error. One
sparse matrix product per batch of resamples maps key counts to those features for all slices at once.

Strata are the combinations of the declared attributes' values, so every slice keeps its n in every resample.
Scores take at most `score_bins` levels (quantile bins); when they take more distinct values, AUROC is
computed on the bins and each resample is shifted by the difference between the exact and the binned value of
the full sample, and calibration error uses each key's mean score. Intervals are percentile intervals; a CI is
left out (with the reason) when more than 1% of resamples leave the metric undefined or when it would not
contain the point value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from techfile.evaluate.compute import PointValues, Strata
from techfile.evaluate.functions import PREDICTION, from_counts
from techfile.evaluate.plan import Plan, SliceKey, Target
from techfile.evaluate.predictions import Predictions

BATCH_FEATURES = 4_000_000  # floats per batch of resamples (memory bound)
DEFINED_SHARE = 0.99


@dataclass(frozen=True)
class Interval:
    low: float | None
    high: float | None
    note: str = ""  # why there is no interval


@dataclass(frozen=True)
class BootstrapSettings:
    resamples: int
    seed: int
    confidence: float
    score_bins: int
    calibration_bins: int


def target_key(target: Target) -> tuple[str, SliceKey]:
    return target.spec.metric.id, target.slice.key


def target_value(values: dict[tuple[str, SliceKey], float], target: Target) -> float:
    """A target's value from per-slice values: the slice's own, or its difference or ratio to the reference."""
    import math

    value = values.get((target.spec.metric.id, target.slice.key), math.nan)
    if target.reference is None:
        return value
    reference = values.get((target.spec.metric.id, target.reference.key), math.nan)
    if target.spec.metric.comparison == "difference":
        return value - reference
    return value / reference if reference != 0 and math.isfinite(reference) else math.nan


def intervals(predictions: Predictions, plan: Plan, strata: Strata, point: PointValues,
              settings: BootstrapSettings, pool: Any = None) -> tuple[dict[tuple[str, SliceKey], Interval], bool]:
    """A percentile interval per target, and whether score metrics were resampled on exact score levels."""
    import numpy as np

    if settings.resamples <= 0:
        return {target_key(t): Interval(None, None, "no resamples") for t in plan.targets}, True
    engine = _Engine(predictions, plan, strata, settings)
    samples = engine.resample(pool)
    alpha = 1 - settings.confidence
    result: dict[tuple[str, SliceKey], Interval] = {}
    for target in plan.targets:
        values = _target_samples(samples, target)
        estimate = target_value(point.values, target)
        if target.spec.function.name == "auroc" and not engine.exact_levels:
            shift = estimate - _target_scalar(engine.binned_point, target)
            values = values + shift
        finite = values[np.isfinite(values)]
        if not np.isfinite(estimate):
            result[target_key(target)] = Interval(None, None, "undefined on the full sample")
        elif len(finite) < DEFINED_SHARE * len(values):
            result[target_key(target)] = Interval(
                None, None, f"undefined in {len(values) - len(finite)} of {len(values)} resamples (too few rows of a class)")
        else:
            low, high = (float(v) for v in np.quantile(finite, [alpha / 2, 1 - alpha / 2]))
            if not low <= estimate <= high:
                result[target_key(target)] = Interval(
                    None, None, f"the percentile interval [{low:g}, {high:g}] does not contain the value")
            else:
                result[target_key(target)] = Interval(low, high)
    return result, engine.exact_levels


def _target_samples(samples: dict[tuple[str, SliceKey], Any], target: Target) -> Any:
    import numpy as np

    own = samples[(target.spec.metric.id, target.slice.key)]
    if target.reference is None:
        return own
    reference = samples[(target.spec.metric.id, target.reference.key)]
    with np.errstate(divide="ignore", invalid="ignore"):
        values = own - reference if target.spec.metric.comparison == "difference" else own / reference
    return np.where(np.isfinite(values), values, np.nan)


def _target_scalar(values: dict[tuple[str, SliceKey], Any], target: Target) -> float:
    return float(_target_samples(values, target)[0])


class _Engine:
    """The keys, the feature matrix and the metric formulas of one evaluation."""

    def __init__(self, predictions: Predictions, plan: Plan, strata: Strata, settings: BootstrapSettings) -> None:
        import numpy as np

        self.plan, self.settings, self.strata = plan, settings, strata
        rows = predictions.rows
        names = {spec.function.name for spec in plan.metrics}
        self.rules = list(dict.fromkeys(spec.rule for spec in plan.metrics if spec.rule is not None))
        thresholds = sorted({float(r) for r in self.rules if r != PREDICTION})
        score = predictions.score
        y = predictions.y.astype(np.int64)
        p = predictions.prediction.astype(np.int64) if predictions.prediction is not None else np.zeros(rows, np.int64)
        t = np.searchsorted(np.asarray(thresholds), score, side="right") if thresholds else np.zeros(rows, np.int64)
        self.use_auroc, self.use_calibration = "auroc" in names, "calibration_error" in names
        e_radix = settings.calibration_bins if self.use_calibration else 1
        e = (np.searchsorted(np.linspace(0.0, 1.0, e_radix + 1)[1:-1], score) if self.use_calibration
             else np.zeros(rows, np.int64))
        self.exact_levels = True
        if self.use_auroc:
            distinct, level = np.unique(score, return_inverse=True)
            if len(distinct) > settings.score_bins:
                self.exact_levels = False
                edges = np.unique(np.quantile(score, np.linspace(0, 1, settings.score_bins + 1)))
                level = np.searchsorted(edges[1:-1], score, side="right")
            q_radix = int(level.max()) + 1
        else:
            level, q_radix = np.zeros(rows, np.int64), 1
        t_radix = len(thresholds) + 1
        code = ((((strata.cell * 2 + y) * 2 + p) * q_radix + level) * e_radix + e) * t_radix + t
        keys, inverse, counts = np.unique(code, return_inverse=True, return_counts=True)
        self.counts = counts.astype(float)
        self.mean_score = (np.bincount(inverse, weights=score, minlength=len(keys)) / counts) if score is not None else None
        rest = keys
        self.key_t, rest = rest % t_radix, rest // t_radix
        self.key_e, rest = rest % e_radix, rest // e_radix
        key_q, rest = rest % q_radix, rest // q_radix
        self.key_p, rest = rest % 2, rest // 2
        self.key_y, self.key_cell = rest % 2, rest // 2
        _, self.key_level = np.unique((key_q * e_radix + self.key_e) * t_radix + self.key_t, return_inverse=True)
        self.levels = int(self.key_level.max()) + 1 if len(keys) else 1
        self.thresholds = thresholds
        self.e_radix = e_radix
        # each stratum's keys are contiguous (the stratum is the most significant part of the code)
        bounds = np.flatnonzero(np.diff(self.key_cell)) + 1
        self.cell_ranges = list(zip(np.concatenate(([0], bounds)), np.concatenate((bounds, [len(keys)])), strict=True))
        self._features()
        self.strata = None  # type: ignore[assignment]  # one value per row: not needed from here on, nor worth sending to workers
        self.binned_point = self._metrics(self.counts[np.newaxis, :])

    def _yhat(self, rule: str | float) -> Any:
        if rule == PREDICTION:
            return self.key_p
        return (self.key_t > self.thresholds.index(float(rule))).astype(self.key_p.dtype)

    def _features(self) -> None:
        """The sparse matrix from key counts to every slice's features."""
        import numpy as np
        from scipy import sparse

        slices = self.plan.slices
        n_slices = len(slices)
        rows: list[Any] = []
        columns: list[Any] = []
        data: list[Any] = []
        offset = 0
        self.auroc_offset = self.calibration_offset = 0
        self.rule_offsets: dict[str | float, int] = {}
        key_index = np.arange(len(self.counts))
        members = [self.strata.members(s.slice)[self.key_cell] for s in slices]

        def block(values_of: Any, width: int) -> None:
            nonlocal offset
            for number, inside in enumerate(members):
                columns_here, weights = values_of(inside)
                rows.append(key_index[inside])
                columns.append(offset + number * width + columns_here)
                data.append(weights)
            offset += n_slices * width

        ones = np.ones(len(self.counts))
        for rule in self.rules:
            self.rule_offsets[rule] = offset
            yhat = self._yhat(rule)
            block(lambda inside, yhat=yhat: ((self.key_y * 2 + yhat)[inside], ones[inside]), 4)
        if self.use_auroc:
            self.auroc_offset = offset
            block(lambda inside: ((self.key_y * self.levels + self.key_level)[inside], ones[inside]), 2 * self.levels)
        if self.use_calibration:
            self.calibration_offset = offset
            assert self.mean_score is not None
            block(lambda inside: ((self.key_e * 2)[inside], self.key_y[inside].astype(float)), 2 * self.e_radix)
            offset -= n_slices * 2 * self.e_radix
            block(lambda inside: ((self.key_e * 2 + 1)[inside], self.mean_score[inside]), 2 * self.e_radix)
        self.width = offset
        self.matrix = sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(columns))),
                                        shape=(len(self.counts), offset))
        self.slice_n = np.array([self.counts[m].sum() for m in members])

    def resample(self, pool: Any = None) -> dict[tuple[str, SliceKey], Any]:
        """Every metric on every slice in every resample: (metric id, slice) → array of resample values.

        Resamples come in batches, each with its own random stream spawned from the seed, so the result is the
        same however many processes share the batches."""
        import numpy as np

        total = self.settings.resamples
        batch = max(1, min(total, BATCH_FEATURES // max(1, self.width), BATCH_FEATURES // max(1, len(self.counts))))
        sizes = [min(batch, total - start) for start in range(0, total, batch)]
        streams = np.random.SeedSequence(self.settings.seed).spawn(len(sizes))
        jobs = list(zip(streams, sizes, strict=True))
        workers = getattr(pool, "_max_workers", 1) if pool is not None else 1
        groups = [jobs[i::workers] for i in range(workers)] if workers > 1 else [jobs]
        groups = [g for g in groups if g]
        outcomes = list(pool.map(_resample_task, [(self, g) for g in groups])) if pool is not None and len(groups) > 1 \
            else [self._batches(g) for g in groups]
        # put the batches back in their order, whichever process ran them
        ordered = sorted((index, part) for outcome in outcomes for index, part in outcome)
        parts = [part for _, part in ordered]
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}

    def _batches(self, jobs: list[tuple[Any, int]]) -> list[tuple[int, dict[tuple[str, SliceKey], Any]]]:
        import numpy as np

        done = []
        for stream, size in jobs:
            rng = np.random.default_rng(stream)
            weights = np.empty((size, len(self.counts)))
            for start, end in self.cell_ranges:
                n = self.counts[start:end]
                weights[:, start:end] = rng.multinomial(int(n.sum()), n / n.sum(), size=size)
            done.append((int(stream.spawn_key[-1]), self._metrics(weights)))
        return done

    def _metrics(self, weights: Any) -> dict[tuple[str, SliceKey], Any]:
        """Each metric on each slice for each row of `weights` (key counts)."""
        import numpy as np

        features = np.asarray(weights @ self.matrix)
        size, n_slices = features.shape[0], len(self.plan.slices)
        values: dict[tuple[str, SliceKey], Any] = {}
        for spec in self.plan.metrics:
            name = spec.function.name
            if spec.rule is not None:
                start = self.rule_offsets[spec.rule]
                confusion = features[:, start:start + 4 * n_slices].reshape(size, n_slices, 4)
                computed = from_counts(name, confusion[..., 3], confusion[..., 1], confusion[..., 0], confusion[..., 2])
            elif name == "auroc":
                computed = self._auroc(features, size, n_slices)
            else:
                computed = self._calibration(features, size, n_slices)
            for number, slice_ in enumerate(self.plan.slices):
                values[(spec.metric.id, slice_.key)] = computed[:, number]
        return values

    def _auroc(self, features: Any, size: int, n_slices: int) -> Any:
        import numpy as np

        start = self.auroc_offset
        histogram = features[:, start:start + n_slices * 2 * self.levels].reshape(size, n_slices, 2, self.levels)
        negatives, positives = histogram[:, :, 0, :], histogram[:, :, 1, :]
        below = np.cumsum(negatives, axis=2) - negatives
        pairs = np.sum(positives * (below + 0.5 * negatives), axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = pairs / (positives.sum(axis=2) * negatives.sum(axis=2))
        return np.where(np.isfinite(value), value, np.nan)

    def _calibration(self, features: Any, size: int, n_slices: int) -> Any:
        import numpy as np

        start = self.calibration_offset
        sums = features[:, start:start + n_slices * 2 * self.e_radix].reshape(size, n_slices, self.e_radix, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.abs(sums[..., 0] - sums[..., 1]).sum(axis=2) / self.slice_n[np.newaxis, :]
        return np.where(np.isfinite(value), value, np.nan)


def _resample_task(task: tuple[_Engine, list[tuple[Any, int]]]) -> list[tuple[int, dict[tuple[str, SliceKey], Any]]]:
    engine, jobs = task
    return engine._batches(jobs)
