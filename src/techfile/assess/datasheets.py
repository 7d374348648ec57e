"""Datasheet completeness: each Gebru et al. question and each Art. 10 fact answered from the dataset's source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from techfile.frameworks.catalogue import load_catalogue
from techfile.project import Dataset, Prose, SpecialCategories


@dataclass(frozen=True)
class DatasheetAnswer:
    """One datasheet question (or Art. 10 point), the source field that answers it, and the answer if given."""

    section: str
    question: str
    field: str
    answer: Prose | str | None


def field_value(entity: Any, dotted: str) -> Any:
    """The value at a dotted field path of a typed entity, or None where any step is absent."""
    value = entity
    for name in dotted.split("."):
        value = getattr(value, name, None)
        if value is None:
            return None
    return value


def as_answer(value: Any) -> Prose | str | None:
    """A source value as datasheet text."""
    if value is None or value == []:
        return None
    if isinstance(value, Prose):
        return value
    if isinstance(value, bool):
        return "Yes." if value else "No."
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, SpecialCategories):
        parts = ["Special categories of personal data are processed." if value.processed else
                 "No special categories of personal data are processed."]
        parts += [p.text for p in (value.necessity, value.safeguards) if p is not None]
        return Prose("\n\n".join(parts))
    return str(value)


def datasheet_answers(dataset: Dataset) -> list[DatasheetAnswer]:
    """Every question of the seven sections (optional ones only when answered), then the Art. 10 points."""
    catalogue = load_catalogue("datasheet_questions")
    answers = []
    for section in catalogue["sections"]:
        for question in section["questions"]:
            value = as_answer(field_value(dataset, question["field"]))
            if value is None and question.get("optional"):
                continue
            answers.append(DatasheetAnswer(section["title"], question["question"], question["field"], value))
    for item in catalogue["data_governance"]:
        answers.append(DatasheetAnswer("Data governance (EU AI Act Art. 10)", f"{item['point']}: {item['topic']}",
                                       item["field"], as_answer(field_value(dataset, item["field"]))))
    return answers
