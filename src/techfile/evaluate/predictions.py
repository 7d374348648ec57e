"""Read a predictions file (CSV or Parquet) into the arrays an evaluation needs, checking every value it uses.

Columns come from the model's `evaluation` section. Labels and predictions are compared with `positive_label`
as text (`1`, `true`, `pneumothorax`; a number also matches its float spelling), so a CSV and a Parquet file of
the same data read the same. Attribute values are text; a row whose value is not declared (or is empty) belongs
to no subgroup of that attribute, but still counts overall. Problems are diagnostics located in the file (the
CSV line) or at the model's mapping, never a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from techfile.diagnostics import Diagnostic, finding
from techfile.project import EvaluationSettings, Model
from techfile.validation.files import sha256_of

OTHER = "\x00other"  # an attribute value that is not declared


class PredictionsError(Exception):
    """The predictions file cannot be evaluated; `diagnostics` say where and why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("; ".join(d.message for d in diagnostics))


@dataclass(frozen=True)
class Predictions:
    """The evaluated rows: label, prediction and score (each where mapped) and each attribute's value index."""

    path: Path
    sha256: str
    rows: int
    y: Any  # bool array: label == positive_label
    prediction: Any | None  # bool array
    score: Any | None  # float array
    attributes: dict[str, Any]  # attribute → int array: index into the declared values, len(values) when not declared
    values: dict[str, list[str]]  # attribute → declared values


def read_predictions(path: Path, model: Model, display: str | None = None, need_score_in_unit: bool = False) -> Predictions:
    """The rows of `path` as `model.evaluation` maps them; PredictionsError with located diagnostics otherwise."""
    assert model.evaluation is not None
    settings = model.evaluation
    shown = display or path.as_posix()
    columns = _mapped_columns(model, settings)
    frame, names = _read_frame(path, shown, sorted(set(columns.values())))
    missing = [(role, column) for role, column in columns.items() if column not in names]
    if missing:
        where = settings.location
        have = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
        raise PredictionsError([finding(
            "TF813", where.path, where.line, where.col,
            f"{shown} has no column {column!r} (model {model.id!r} maps {role} to it); its columns: {have}",
            "Rename the column in the file, or map the column it has in the model's `evaluation` section.")
            for role, column in missing])
    csv = path.suffix.lower() != ".parquet"
    problems: list[Diagnostic] = []
    y = _binary(frame[settings.label], settings.positive_label, "label", settings.label, shown, csv, problems)
    prediction = None
    if settings.prediction is not None:
        prediction = _binary(frame[settings.prediction], settings.positive_label, "prediction", settings.prediction, shown, csv,
                             problems, labels_only=True)
    score = None
    if settings.score is not None:
        score = _score(frame[settings.score], settings.score, shown, csv, problems, need_score_in_unit)
    if problems:
        raise PredictionsError(problems)
    values = {g.attribute: list(g.values) for g in model.factors.subgroups}
    attributes = {attribute: _codes(frame[columns[f"attribute {attribute}"]], declared)
                  for attribute, declared in values.items()}
    return Predictions(path, sha256_of(path), len(frame), y, prediction, score, attributes, values)


def _mapped_columns(model: Model, settings: EvaluationSettings) -> dict[str, str]:
    columns = {"label": settings.label}
    if settings.prediction:
        columns["prediction"] = settings.prediction
    if settings.score:
        columns["score"] = settings.score
    for group in model.factors.subgroups:
        columns[f"attribute {group.attribute}"] = settings.attributes.get(group.attribute, group.attribute)
    return columns


def _read_frame(path: Path, shown: str, wanted: list[str]) -> tuple[Any, list[str]]:
    """The wanted columns that the file has, as a DataFrame, and the names of all its columns."""
    import pandas as pd

    def unreadable(why: str) -> PredictionsError:
        return PredictionsError([finding("TF811", shown, 1, 1, f"cannot read the predictions file: {why}",
                                         "Write the predictions as CSV with a header row (UTF-8), or as Parquet.")])

    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            names = [str(n) for n in pq.read_schema(path).names]
            frame = pd.read_parquet(path, columns=[c for c in wanted if c in names])
        else:
            names = [str(n) for n in pd.read_csv(path, nrows=0, encoding="utf-8").columns]
            present = [c for c in wanted if c in names]
            frame = pd.read_csv(path, usecols=present, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8")
    except UnicodeDecodeError:
        raise unreadable("it is not UTF-8 text") from None
    except Exception as error:  # noqa: BLE001 - pandas and pyarrow raise many kinds for malformed files
        lines = str(error).strip().splitlines()
        raise unreadable(lines[0] if lines else type(error).__name__) from None
    if len(frame) == 0:
        raise unreadable("it has no rows")
    return frame, names


def _row(index: int, csv: bool) -> int:
    return index + 2 if csv else index + 1  # a CSV's line (after the header); a Parquet row number


def _where(shown: str, index: int, csv: bool) -> tuple[str, int]:
    return shown, _row(index, csv) if csv else 1


def _factorized(column: Any) -> tuple[Any, list[str]]:
    """Each row's index into the column's distinct values, and those values as stripped text ("" when missing)."""
    import pandas as pd

    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes, ["" if _missing(v) else str(v).strip() for v in uniques]


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _binary(column: Any, positive: Any, role: str, name: str, shown: str, csv: bool, problems: list[Diagnostic],
            labels_only: bool = False) -> Any:
    import numpy as np

    codes, values = _factorized(column)
    if "" in values:
        empty = np.flatnonzero(codes == values.index(""))
        path, line = _where(shown, int(empty[0]), csv)
        problems.append(finding("TF814", path, line, 1,
                                f"{role} column {name!r} is empty in {_row_name(int(empty[0]), csv)}"
                                + (f" and {len(empty) - 1} more rows" if len(empty) > 1 else ""),
                                "Every evaluated row needs a label and a prediction; remove unlabelled rows from the file."))
        return np.zeros(len(codes), dtype=bool)
    accepted = _spellings(positive)
    positive_codes = [i for i, v in enumerate(values) if v.lower() in accepted]
    others = [v for v in values if v.lower() not in accepted]
    if len(others) > 1:
        first = int(np.flatnonzero(codes == values.index(others[1]))[0])
        path, line = _where(shown, first, csv)
        problems.append(finding("TF814", path, line, 1,
                                f"{role} column {name!r} holds more than two values ({', '.join(map(repr, others[:5]))} "
                                f"besides the positive label {positive!r}); a binary evaluation needs two",
                                "Map the labels to two values, one of them `positive_label` in the model's `evaluation` section."))
    elif not labels_only and not positive_codes:
        problems.append(finding("TF814", shown, 1, 1,
                                f"{role} column {name!r} never holds the positive label {positive!r} "
                                f"(values: {', '.join(map(repr, others[:5]))})",
                                "Set `positive_label` in the model's `evaluation` section to the label that counts as positive."))
    return np.isin(codes, positive_codes)


def _spellings(positive: Any) -> set[str]:
    """The spellings of the positive label as text: 1 also matches 1.0; true matches True and 1."""
    if isinstance(positive, bool):
        return {"true", "1", "1.0"} if positive else {"false", "0", "0.0"}
    text = str(positive).strip().lower()
    spellings = {text}
    try:
        number = float(text)
    except ValueError:
        return spellings
    if math.isfinite(number):
        spellings |= {repr(number), f"{number:g}"}
        if number.is_integer():
            spellings |= {str(int(number)), f"{int(number)}.0"}
        if number == 1:
            spellings.add("true")
        if number == 0:
            spellings.add("false")
    return spellings


def _score(column: Any, name: str, shown: str, csv: bool, problems: list[Diagnostic], unit: bool) -> Any:
    import numpy as np
    import pandas as pd

    numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(numbers))
    if len(bad):
        index = int(bad[0])
        path, line = _where(shown, index, csv)
        problems.append(finding("TF814", path, line, 1,
                                f"score column {name!r} holds {str(column.iloc[index])!r} in {_row_name(index, csv)}, "
                                f"not a finite number" + (f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""),
                                "Scores are numbers, e.g. the model's probability for the positive label."))
        return numbers
    outside = np.flatnonzero((numbers < 0) | (numbers > 1))
    if unit and len(outside):
        index = int(outside[0])
        path, line = _where(shown, index, csv)
        problems.append(finding("TF814", path, line, 1,
                                f"score column {name!r} holds {numbers[index]:g} in {_row_name(index, csv)}, outside 0-1, "
                                "but calibration_error needs probabilities",
                                "Give calibrated probabilities in the score column, or remove calibration_error's `function`."))
    return numbers


def _row_name(index: int, csv: bool) -> str:
    return f"line {index + 2}" if csv else f"row {index + 1}"


def _codes(column: Any, declared: list[str]) -> Any:
    """Each row's value as the index of its declared value; len(declared) for any other value."""
    import numpy as np

    codes, values = _factorized(column)
    lookup = np.array([declared.index(v) if v in declared else len(declared) for v in values], dtype=np.int64)
    return lookup[codes] if len(codes) else np.zeros(0, dtype=np.int64)
