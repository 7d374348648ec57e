"""A small project with a model that `techfile evaluate` can evaluate, and predictions files with known group rates.

Each stratum (sex × age_band × region) gets an exact number of rows, positives and predicted positives, so the rates
of every slice are known by construction; scores are drawn with a fixed seed on the side of 0.5 the prediction is.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from conftest import REPO

BASE = REPO / "tests" / "bad_inputs" / "_base"
MODEL = "credit-model"
MODEL_FILE = f"models/{MODEL}.yaml"
DATASET = "loans-test"
DATASET_SHA256 = "9f2c4a1e3b5d7f9a0c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f50"

SEXES = ("female", "male")
AGES = ("18-39", "40-59", "60+")
REGIONS = ("north", "south")


@dataclass(frozen=True)
class Cell:
    rows: int
    positives: int
    true_positives: int  # positives predicted positive
    false_positives: int  # negatives predicted positive


def cell(rows: int, prevalence: float, tpr: float, fpr: float) -> Cell:
    positives = round(rows * prevalence)
    return Cell(rows, positives, round(positives * tpr), round((rows - positives) * fpr))


def default_cells() -> dict[tuple[str, str, str], Cell]:
    """Rates that differ by group: older applicants have the lowest sensitivity, women a little lower than men."""
    cells = {}
    for sex, age, region in itertools.product(SEXES, AGES, REGIONS):
        tpr = {"18-39": 0.92, "40-59": 0.9, "60+": 0.86}[age] - (0.02 if sex == "female" else 0.0)
        cells[(sex, age, region)] = cell(700 if region == "north" else 500, 0.3 if sex == "female" else 0.35, tpr,
                                         0.1 if age != "60+" else 0.14)
    return cells


def predictions_frame(cells: dict[tuple[str, str, str], Cell], seed: int = 20250101) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for (sex, age, region), c in sorted(cells.items()):
        negatives = c.rows - c.positives
        label = np.r_[np.ones(c.positives, int), np.zeros(negatives, int)]
        predicted = np.r_[np.ones(c.true_positives, int), np.zeros(c.positives - c.true_positives, int),
                          np.ones(c.false_positives, int), np.zeros(negatives - c.false_positives, int)]
        score = np.where(predicted == 1, rng.uniform(0.5, 1.0, c.rows), rng.uniform(0.0, 0.5, c.rows))
        parts.append(pd.DataFrame({"applicant_sex": sex, "age_band": age, "region": region, "defaulted": label,
                                   "flagged": predicted, "risk_score": np.round(score, 6)}))
    frame = pd.concat(parts, ignore_index=True)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


MODEL_YAML = """\
# yaml-language-server: $schema=../schemas/model.schema.json
id: credit-model
name: Credit default model
version: "2.0.0"
date: "2026-01-10"
task: binary classification (default within 12 months)
owner: ML lead
developers: ML team
model_type: gradient-boosted trees
architecture: Gradient-boosted trees on 40 features.
intended_use:
  primary_uses: Flag loan applications for manual review.
  primary_users: Credit officers.
  out_of_scope: Automated rejection.
factors:
  relevant: Sex, age band and region.
  evaluation_factors: Sex, age band and region, and sex by age band.
  subgroups:
    - attribute: sex
      values: [female, male]
    - attribute: age_band
      values: ["18-39", "40-59", "60+"]
    - attribute: region
      values: [north, south]
  intersections:
    - [sex, age_band]
metrics:
  - id: sensitivity
    name: Sensitivity
    description: Share of defaults flagged.
    rationale: Missed defaults are the main harm.
    function: recall
    threshold: 0.85
    subgroup_threshold: 0.83
    intersection_threshold: 0.8
  - id: specificity
    name: Specificity
    description: Share of non-defaults not flagged.
    rationale: Needless reviews cost applicants time.
    function: specificity
    threshold: {min: 0.8}
  - id: precision
    name: Precision
    description: Share of flagged applications that default.
    rationale: Reviewers' workload.
    function: precision
  - id: accuracy
    name: Accuracy
    description: Share of correct flags.
    rationale: Overall agreement.
    function: accuracy
  - id: f1
    name: F1
    description: Harmonic mean of precision and sensitivity.
    rationale: Balance of both.
    function: f1
  - id: auroc
    name: AUROC
    description: Area under the ROC curve of the risk score.
    rationale: Ranking quality.
    function: auroc
    threshold: 0.8
  - id: ece
    name: Calibration error
    description: Expected calibration error over 10 score bins.
    rationale: Scores are read as probabilities.
    function: calibration_error
    higher_is_better: false
  - id: selection-rate
    name: Flag rate
    description: Share of applications flagged.
    rationale: Workload planning.
    function: selection_rate
  - id: fpr
    name: False positive rate
    description: Share of non-defaults flagged.
    rationale: Needless reviews.
    function: false_positive_rate
    higher_is_better: false
  - id: fnr
    name: False negative rate
    description: Share of defaults not flagged.
    rationale: Missed defaults.
    function: false_negative_rate
    threshold: {max: 0.2}
  - id: flag-rate-ratio
    name: Flag-rate ratio to men
    description: Flag rate of the group divided by the flag rate of men.
    rationale: Four-fifths rule, both ways.
    function: selection_rate
    comparison: ratio
    reference_group: {sex: male}
    subgroup_threshold: {between: [0.8, 1.25]}
  - id: tpr-difference
    name: Sensitivity difference to men aged 40-59
    description: Sensitivity of the group minus that of men aged 40-59.
    rationale: Equal opportunity.
    function: recall
    comparison: difference
    reference_group: {sex: male, age_band: "40-59"}
    subgroup_threshold: {between: [-0.1, 0.1]}
    intersection_threshold: {between: [-0.1, 0.1]}
  - id: sensitivity-at-0.7
    name: Sensitivity at score 0.7
    description: Share of defaults with a score of at least 0.7.
    rationale: The stricter operating point.
    function: sensitivity
    decision_threshold: 0.7
training_data:
  - data-base
evaluation_data:
  - loans-test
results: []
ethical_considerations: Sex is used for evaluation only.
caveats: Adults only.
evaluation:
  label: defaulted
  prediction: flagged
  score: risk_score
  positive_label: 1
  attributes: {sex: applicant_sex}
  bootstrap: {resamples: 200, seed: 7}
"""


def make_project(folder: Path, model_yaml: str = MODEL_YAML, git: bool = True) -> Path:
    """The base test project with the credit model and its evaluation dataset, committed to git when `git`."""
    shutil.copytree(BASE, folder)
    dataset = (BASE / "datasets" / "data-base.yaml").read_text(encoding="utf-8")
    dataset = dataset.replace("id: data-base", f"id: {DATASET}").replace("role: training", "role: test")
    (folder / "datasets" / f"{DATASET}.yaml").write_text(dataset + f"sha256: {DATASET_SHA256}\n", encoding="utf-8")
    (folder / MODEL_FILE).write_text(model_yaml, encoding="utf-8")
    if git:
        for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                        ["-c", "user.name=Test", "-c", "user.email=t@example.com", "commit", "-q", "-m", "project"]):
            subprocess.run(["git", "-C", str(folder), *command], check=True, capture_output=True)
    return folder
