"""project.record: the typed model's classes behave as frozen dataclasses do (construction with defaults and default
factories, equality, hashing, repr, refusal to be changed, dataclasses.replace, pickling), only cheaper to import."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from techfile.loading import load_project
from techfile.project import Location, Metric, record

from conftest import SAMPLE


@record
class Recorded:
    name: str
    count: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Plain:  # the same fields as a plain frozen dataclass, to compare with
    name: str
    count: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)


def test_a_record_is_built_compared_and_shown_as_a_frozen_dataclass() -> None:
    mine, theirs = Recorded("a", 2, ["x"]), Plain("a", 2, ["x"])
    assert repr(mine) == repr(theirs).replace("Plain(", "Recorded(")
    assert Recorded("a") == Recorded("a", 0, []) and Recorded("a") != Recorded("b") and Recorded("a") != Plain("a")
    assert Recorded("a").tags is not Recorded("a").tags  # a default factory is called for each instance
    assert hash(Location("x.yaml", 2, 3)) == hash(Location("x.yaml", 2, 3))
    assert len({Location("x.yaml"), Location("x.yaml", 1, 1), Location("y.yaml")}) == 2
    with pytest.raises(TypeError):
        hash(mine)  # a list field is unhashable, as in a dataclass
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        Recorded()  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        mine.name = "b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del mine.count
    changed = dataclasses.replace(mine, count=5)
    assert changed == Recorded("a", 5, ["x"]) and mine.count == 2
    assert [f.name for f in dataclasses.fields(Recorded)] == ["name", "count", "tags"]


def test_the_loaded_sample_survives_pickling_and_copying_unchanged() -> None:
    project = load_project(SAMPLE).project
    assert pickle.loads(pickle.dumps(project)) == project
    assert copy.deepcopy(project) == project
    metric = project.models[0].metrics[0]
    assert isinstance(metric, Metric) and repr(metric).startswith("Metric(id=")
