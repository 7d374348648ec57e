"""Time `techfile evaluate` on a large predictions file, against a plain single-pass computation in the same run.

The file: ROWS rows (default 1,000,000) with 3 subgroup attributes (2 × 4 × 4 values), a binary label, a continuous
score and a prediction; the model declares 10 metrics (every function once) on the overall slice, 10 subgroups and
the sex × age_band intersection, with RESAMPLES bootstrap resamples (default 1,000). Measured: the whole evaluation
(reading the Parquet file, MetricFrame, the stratified bootstrap, no writing), median of --runs runs. Baseline: the
same 10 metrics on every slice once, with scikit-learn on the filtered rows, no CIs.

Usage: python benchmarks/bench_evaluate.py [--rows 1000000] [--resamples 1000] [--runs 3] [--target 60]
Prints the figures and exits 1 when the median is over the target.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

FUNCTIONS = ("accuracy", "precision", "recall", "specificity", "auroc", "f1", "calibration_error", "selection_rate",
             "false_positive_rate", "false_negative_rate")
VALUES = {"sex": ["female", "male"], "age_band": ["18-29", "30-44", "45-64", "65+"], "region": ["north", "east", "south", "west"]}


def write_predictions(path: Path, rows: int, seed: int = 1) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: np.asarray(values, dtype=object)[rng.integers(0, len(values), rows)]
                          for name, values in VALUES.items()})
    label = rng.random(rows) < 0.3
    score = np.clip(rng.normal(0.35 + 0.3 * label, 0.18), 0.0, 1.0)
    frame["label"] = label.astype(int)
    frame["score"] = score
    frame["prediction"] = (score >= 0.5).astype(int)
    frame.to_parquet(path, index=False)


def model_yaml(resamples: int) -> str:
    metrics = "\n".join(f"""  - id: {name.replace('_', '-')}
    name: {name}
    description: {name} per slice.
    rationale: Benchmark.
    function: {name}""" for name in FUNCTIONS)
    subgroups = "\n".join(f"    - attribute: {name}\n      values: [{', '.join(repr(v) for v in values)}]"
                          for name, values in VALUES.items())
    return f"""id: bench-model
name: Benchmark model
version: "1.0.0"
date: "2026-01-10"
task: binary classification
owner: ML lead
developers: ML team
model_type: gradient-boosted trees
architecture: Trees.
intended_use: {{primary_uses: Benchmark., primary_users: Nobody., out_of_scope: Everything.}}
factors:
  relevant: Three attributes.
  evaluation_factors: All three, and sex by age band.
  subgroups:
{subgroups}
  intersections:
    - [sex, age_band]
metrics:
{metrics}
training_data: [data-base]
evaluation_data: [bench-data]
results: []
ethical_considerations: None.
caveats: None.
evaluation:
  label: label
  prediction: prediction
  score: score
  bootstrap: {{resamples: {resamples}, seed: 1}}
"""


def make_project(folder: Path, resamples: int) -> Path:
    base = REPO / "tests" / "bad_inputs" / "_base"
    shutil.copytree(base, folder)
    dataset = (base / "datasets" / "data-base.yaml").read_text(encoding="utf-8")
    dataset = dataset.replace("id: data-base", "id: bench-data").replace("role: training", "role: test")
    (folder / "datasets" / "bench-data.yaml").write_text(dataset + "sha256: " + "ab" * 32 + "\n", encoding="utf-8")
    (folder / "models" / "bench-model.yaml").write_text(model_yaml(resamples), encoding="utf-8")
    return folder


def baseline(path: Path) -> float:
    """The 10 metrics on every slice once, with scikit-learn on the filtered rows: no MetricFrame, no bootstrap."""
    import numpy as np
    import pandas as pd
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score

    started = time.perf_counter()
    frame = pd.read_parquet(path)
    slices = [np.ones(len(frame), dtype=bool)]
    slices += [(frame[a] == v).to_numpy() for a, values in VALUES.items() for v in values]
    slices += [((frame["sex"] == s) & (frame["age_band"] == g)).to_numpy() for s in VALUES["sex"] for g in VALUES["age_band"]]
    y, p, s = frame["label"].to_numpy(), frame["prediction"].to_numpy(), frame["score"].to_numpy()
    for mask in slices:
        yy, pp, ss = y[mask], p[mask], s[mask]
        tn, fp, fn, tp = confusion_matrix(yy, pp, labels=[0, 1]).ravel()
        accuracy_score(yy, pp), precision_score(yy, pp), recall_score(yy, pp), recall_score(yy, pp, pos_label=0)
        roc_auc_score(yy, ss), f1_score(yy, pp)
        _ = (tp + fp) / len(yy), fp / (fp + tn), fn / (fn + tp)
        bins = np.searchsorted(np.linspace(0, 1, 11)[1:-1], ss)
        _ = np.abs(np.bincount(bins, yy, 10) - np.bincount(bins, ss, 10)).sum() / len(yy)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target", type=float, default=60.0, help="seconds")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes [default: the CPU count]")
    args = parser.parse_args()
    from techfile.evaluate.run import evaluate_model

    with tempfile.TemporaryDirectory() as folder:
        project = make_project(Path(folder) / "project", args.resamples)
        predictions = Path(folder) / "predictions.parquet"
        write_predictions(predictions, args.rows)
        import fairlearn.metrics  # noqa: F401 - imported once before timing, as in a long-lived process
        import sklearn.metrics  # noqa: F401
        baselines, measured, cpu = [], [], []
        for _ in range(args.runs):
            baselines.append(baseline(predictions))
            started, before = time.perf_counter(), _cpu_seconds()
            evaluation = evaluate_model(project, "bench-model", predictions, write=False, jobs=args.jobs)
            measured.append(time.perf_counter() - started)
            cpu.append(_cpu_seconds() - before)
    base, median = statistics.median(baselines), statistics.median(measured)
    print(f"{args.rows:,} rows x 3 attributes x {len(FUNCTIONS)} metrics, {len(evaluation.results)} results, "
          f"{args.resamples:,} resamples")
    print(f"single pass, scikit-learn, no CIs (baseline): median {base:.2f} s over {args.runs} runs")
    print(f"techfile evaluate with bootstrap CIs:         median {median:.2f} s over {args.runs} runs "
          f"({median / base:.1f}x baseline; target {args.target:.0f} s)")
    print(f"  CPU time of the evaluation (all processes): median {statistics.median(cpu):.2f} s; jobs {args.jobs or os.cpu_count()}; "
          f"load average during the runs {os.getloadavg()[1]:.1f} on {os.cpu_count()} cores")
    return 0 if median <= args.target else 1


def _cpu_seconds() -> float:
    """User + system time of this process and its finished children (the evaluation's worker processes)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    sys.exit(main())
