"""Point values per slice with Fairlearn's MetricFrame over the functions of evaluate/functions.py.

MetricFrame is handed the rows compressed to their distinct (stratum, label, prediction) — or (stratum, label,
score) for AUROC, (stratum, label, score bin) with the bin's mean score for calibration — with the number of
rows as `sample_weight`. Every function is a sum over rows, so this gives exactly the values of the rows
themselves (the weights are whole numbers), in a fraction of the time. One MetricFrame per attribute set:
the overall slice, each attribute's subgroups, each declared intersection.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from techfile.evaluate.functions import PREDICTION, implementation
from techfile.evaluate.plan import MetricSpec, Plan, SliceKey, slice_key
from techfile.evaluate.predictions import OTHER, Predictions


@dataclass(frozen=True)
class Strata:
    """Each row's stratum: its combination of the declared attributes' values (an undeclared value counts as one more)."""

    cell: Any  # int array, one per row
    radices: list[int]
    attributes: list[str]
    values: dict[str, list[str]]

    @property
    def count(self) -> int:
        total = 1
        for radix in self.radices:
            total *= radix
        return total

    def decode(self, cells: Any) -> dict[str, Any]:
        """Attribute → value index of each cell in `cells`."""
        return _decode(cells, self.attributes, self.radices)

    def members(self, slice_: dict[str, str]) -> Any:
        """Boolean mask over all cells: the cells inside `slice_`."""
        import numpy as np

        cells = np.arange(self.count)
        decoded = self.decode(cells)
        mask = np.ones(self.count, dtype=bool)
        for attribute, value in slice_.items():
            mask &= decoded[attribute] == self.values[attribute].index(value)
        return mask


def strata_of(predictions: Predictions, plan: Plan) -> Strata:
    import numpy as np

    attributes = list(plan.attributes)
    radices = [len(plan.attributes[a]) + 1 for a in attributes]
    cell = np.zeros(predictions.rows, dtype=np.int64)
    for attribute, radix in zip(attributes, radices, strict=True):
        cell = cell * radix + predictions.attributes[attribute]
    return Strata(cell, radices, attributes, plan.attributes)


def predicted(predictions: Predictions, rule: str | float | None) -> Any:
    """The predicted positives under a rule: the prediction column, or score >= threshold."""
    if rule == PREDICTION:
        return predictions.prediction
    assert predictions.score is not None and rule is not None
    return predictions.score >= float(rule)


@dataclass(frozen=True)
class PointValues:
    values: dict[tuple[str, SliceKey], float]  # (metric id, slice) → value, NaN where undefined
    n: dict[SliceKey, int]  # rows per slice


def point_values(predictions: Predictions, plan: Plan, strata: Strata, calibration_bins: int, pool: Any = None) -> PointValues:
    """Every metric on every slice of the plan, by MetricFrame (the MetricFrames in `pool`'s processes, if given)."""
    import numpy as np

    n_cells = np.bincount(strata.cell, minlength=strata.count)
    n = {s.key: int(n_cells[strata.members(s.slice)].sum()) for s in plan.slices}
    groups: dict[object, list[MetricSpec]] = {}
    for spec in plan.metrics:
        groups.setdefault(_input_of(spec), []).append(spec)
    tasks = []
    for kind, specs in groups.items():
        table = _compressed(predictions, strata, kind, calibration_bins)
        features = _Features(strata.attributes, strata.radices, strata.values)
        tasks += [(table, features, frame, [(s.metric.id, s.function.name) for s in specs], calibration_bins)
                  for frame in plan.frames or [()]]  # each MetricFrame also gives the overall value
    # the largest first, so that two workers finish together
    tasks.sort(key=lambda task: -len(task[0].cell))
    outcomes = pool.map(_metric_frame_task, tasks) if pool is not None else map(_metric_frame_task, tasks)
    values: dict[tuple[str, SliceKey], float] = {}
    for frame_values in outcomes:
        for key, value in frame_values.items():
            values.setdefault(key, value)
    return PointValues(values, n)


@dataclass(frozen=True)
class _Features:
    """What a MetricFrame task needs of the strata to name each row's groups."""

    attributes: list[str]
    radices: list[int]
    values: dict[str, list[str]]

    def decode(self, cells: Any) -> dict[str, Any]:
        return _decode(cells, self.attributes, self.radices)


def _decode(cells: Any, attributes: list[str], radices: list[int]) -> dict[str, Any]:
    """Attribute → value index of each stratum number in `cells` (mixed radix, the first attribute most significant)."""
    decoded = {}
    rest = cells.copy()
    for attribute, radix in zip(reversed(attributes), reversed(radices), strict=True):
        decoded[attribute] = rest % radix
        rest = rest // radix
    return decoded


def _input_of(spec: MetricSpec) -> object:
    if spec.rule is not None:
        return ("prediction", spec.rule)
    return spec.function.name  # auroc, calibration_error


@dataclass(frozen=True)
class _Table:
    cell: Any
    y: Any
    y_pred: Any
    weight: Any


def _compressed(predictions: Predictions, strata: Strata, kind: object, calibration_bins: int) -> _Table:
    """The distinct rows for one kind of input, with their counts (and, for calibration, mean scores)."""
    import numpy as np

    y = predictions.y.astype(np.int64)
    if kind == "auroc":
        score = predictions.score
        order = np.lexsort((score, y, strata.cell))
        cell, yy, ss = strata.cell[order], y[order], score[order]
        start = np.ones(len(order), dtype=bool)
        start[1:] = (cell[1:] != cell[:-1]) | (yy[1:] != yy[:-1]) | (ss[1:] != ss[:-1])
        firsts = np.flatnonzero(start)
        counts = np.diff(np.append(firsts, len(order)))
        return _Table(cell[firsts], yy[firsts], ss[firsts], counts.astype(float))
    if kind == "calibration_error":
        bins = np.linspace(0.0, 1.0, calibration_bins + 1)
        secondary = np.searchsorted(bins[1:-1], predictions.score)
        radix = calibration_bins
    else:
        assert isinstance(kind, tuple)
        secondary = predicted(predictions, kind[1]).astype(np.int64)
        radix = 2
    code = (strata.cell * 2 + y) * radix + secondary
    keys, inverse, counts = np.unique(code, return_inverse=True, return_counts=True)
    if kind == "calibration_error":
        sums = np.bincount(inverse, weights=predictions.score, minlength=len(keys))
        y_pred = sums / counts
    else:
        y_pred = keys % radix
    rest = keys // radix
    return _Table(rest // 2, rest % 2, y_pred, counts.astype(float))


def _metric_frame_task(task: tuple[Any, ...]) -> dict[tuple[str, SliceKey], float]:
    return _metric_frame(*task)


def _metric_frame(table: _Table, strata: _Features, frame: tuple[str, ...], metrics_of: list[tuple[str, str]],
                  calibration_bins: int) -> dict[tuple[str, SliceKey], float]:
    import numpy as np
    import pandas as pd
    from fairlearn.metrics import MetricFrame

    decoded = strata.decode(table.cell)
    names = {a: [*strata.values[a], OTHER] for a in strata.attributes}
    if frame:
        features = pd.DataFrame({a: np.asarray(names[a], dtype=object)[decoded[a]] for a in frame})
    else:
        features = pd.Series(np.zeros(len(table.cell), dtype=np.int64), name="overall")
    metrics = {metric_id: implementation(name, calibration_bins) for metric_id, name in metrics_of}
    # rows that occur once need no weights: MetricFrame then handles one column less per row
    weighted = bool(np.any(table.weight != 1))
    params = {"sample_params": {m: {"sample_weight": table.weight} for m in metrics}} if weighted else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined values are NaN by design; scikit-learn would warn about them
        result = MetricFrame(metrics=metrics, y_true=table.y, y_pred=table.y_pred, sensitive_features=features, **params)
    values = {(metric_id, ()): float(result.overall[metric_id]) for metric_id in metrics}
    if not frame:
        return values
    for group, row in result.by_group.iterrows():
        labels = group if isinstance(group, tuple) else (group,)
        if OTHER in labels:
            continue
        key = slice_key(dict(zip(frame, map(str, labels), strict=True)))
        for metric_id in metrics:
            values[(metric_id, key)] = float(row[metric_id])
    return values
