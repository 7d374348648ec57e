"""The metric functions `techfile evaluate` computes, as data: what each needs and how it is defined.

Point values are computed by Fairlearn's MetricFrame over these functions (scikit-learn's, or Fairlearn's
where scikit-learn has none); the bootstrap computes the same definitions from weighted confusion counts
(evaluate/bootstrap.py). A function returns NaN where its definition is undefined (no positives for recall,
one class only for AUROC), never a made-up 0. Heavy modules are imported inside `implementation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PREDICTION, SCORE = "prediction", "score"


@dataclass(frozen=True)
class MetricFunction:
    name: str
    needs: str  # PREDICTION or SCORE
    library: str  # the function MetricFrame calls
    definition: str


FUNCTIONS: dict[str, MetricFunction] = {f.name: f for f in (
    MetricFunction("accuracy", PREDICTION, "sklearn.metrics.accuracy_score", "(TP + TN) / n"),
    MetricFunction("precision", PREDICTION, "sklearn.metrics.precision_score", "TP / (TP + FP)"),
    MetricFunction("recall", PREDICTION, "sklearn.metrics.recall_score", "TP / (TP + FN)"),
    MetricFunction("sensitivity", PREDICTION, "sklearn.metrics.recall_score", "TP / (TP + FN)"),
    MetricFunction("specificity", PREDICTION, "sklearn.metrics.recall_score(pos_label=0)", "TN / (TN + FP)"),
    MetricFunction("auroc", SCORE, "sklearn.metrics.roc_auc_score", "area under the ROC curve of the score (ties count one half)"),
    MetricFunction("f1", PREDICTION, "sklearn.metrics.f1_score", "2 TP / (2 TP + FP + FN)"),
    MetricFunction("calibration_error", SCORE, "expected calibration error on sklearn.calibration.calibration_curve's uniform bins",
                   "sum over equal-width score bins of |positives - sum of scores| / n"),
    MetricFunction("selection_rate", PREDICTION, "fairlearn.metrics.selection_rate", "(TP + FP) / n"),
    MetricFunction("false_positive_rate", PREDICTION, "fairlearn.metrics.false_positive_rate", "FP / (FP + TN)"),
    MetricFunction("false_negative_rate", PREDICTION, "fairlearn.metrics.false_negative_rate", "FN / (FN + TP)"),
)}


def implementation(name: str, calibration_bins: int = 10) -> Callable[..., float]:
    """f(y_true, y_pred, sample_weight) → float (NaN where undefined), for MetricFrame."""
    import numpy as np
    from fairlearn.metrics import false_negative_rate, false_positive_rate, selection_rate
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    def has(y: Any, weight: Any, label: int) -> bool:
        if weight is None:
            return bool(np.any(np.asarray(y) == label))
        return bool(np.sum(weight[np.asarray(y) == label]) > 0)

    def auroc(y: Any, score: Any, sample_weight: Any = None) -> float:
        if not (has(y, sample_weight, 1) and has(y, sample_weight, 0)):
            return float("nan")
        return float(roc_auc_score(y, score, sample_weight=sample_weight))

    def calibration_error(y: Any, score: Any, sample_weight: Any = None) -> float:
        """Binned as sklearn.calibration.calibration_curve(strategy="uniform") bins, with weights."""
        if sample_weight is None:
            sample_weight = np.ones(len(score))
        bins = np.linspace(0.0, 1.0, calibration_bins + 1)
        ids = np.searchsorted(bins[1:-1], score)
        total = np.sum(sample_weight)
        if total <= 0:
            return float("nan")
        positives = np.bincount(ids, weights=sample_weight * np.asarray(y, dtype=float), minlength=calibration_bins)
        scores = np.bincount(ids, weights=sample_weight * np.asarray(score, dtype=float), minlength=calibration_bins)
        return float(np.sum(np.abs(positives - scores)) / total)

    def fpr(y: Any, predicted: Any, sample_weight: Any = None) -> float:
        if not has(y, sample_weight, 0):
            return float("nan")
        return float(false_positive_rate(y, predicted, pos_label=1, sample_weight=sample_weight))

    def fnr(y: Any, predicted: Any, sample_weight: Any = None) -> float:
        if not has(y, sample_weight, 1):
            return float("nan")
        return float(false_negative_rate(y, predicted, pos_label=1, sample_weight=sample_weight))

    def rate(y: Any, predicted: Any, sample_weight: Any = None) -> float:
        return float(selection_rate(y, predicted, pos_label=1, sample_weight=sample_weight))

    nan = np.nan
    table: dict[str, Callable[..., float]] = {
        "accuracy": lambda y, p, sample_weight=None: float(accuracy_score(y, p, sample_weight=sample_weight)),
        "precision": lambda y, p, sample_weight=None: float(precision_score(y, p, sample_weight=sample_weight, zero_division=nan)),
        "recall": lambda y, p, sample_weight=None: float(recall_score(y, p, sample_weight=sample_weight, zero_division=nan)),
        "specificity": lambda y, p, sample_weight=None: float(recall_score(y, p, pos_label=0, sample_weight=sample_weight,
                                                                      zero_division=nan)),
        "auroc": auroc,
        "f1": lambda y, p, sample_weight=None: float(f1_score(y, p, sample_weight=sample_weight, zero_division=nan)),
        "calibration_error": calibration_error,
        "selection_rate": rate,
        "false_positive_rate": fpr,
        "false_negative_rate": fnr,
    }
    table["sensitivity"] = table["recall"]
    return table[name]


def from_counts(name: str, tp: Any, fp: Any, tn: Any, fn: Any) -> Any:
    """The prediction metric `name` from (arrays of) weighted confusion counts, NaN where undefined."""
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        n = tp + fp + tn + fn
        value = {
            "accuracy": lambda: (tp + tn) / n,
            "precision": lambda: tp / (tp + fp),
            "recall": lambda: tp / (tp + fn),
            "sensitivity": lambda: tp / (tp + fn),
            "specificity": lambda: tn / (tn + fp),
            "f1": lambda: 2 * tp / (2 * tp + fp + fn),
            "selection_rate": lambda: (tp + fp) / n,
            "false_positive_rate": lambda: fp / (fp + tn),
            "false_negative_rate": lambda: fn / (fn + tp),
        }[name]()
    return np.where(np.isfinite(value), value, np.nan)
