"""Integrations with other tools' formats (Hugging Face cards, ...): optional extras, imported only when used."""

from __future__ import annotations

from collections.abc import Iterable


class MissingExtra(Exception):
    """An integration needs a package that is only installed with an optional extra."""

    def __init__(self, extra: str) -> None:
        self.extra = extra
        super().__init__(f"this command needs the optional extra: pip install 'techfile[{extra}]'")


class UnknownEntity(KeyError):
    """No entity of this kind has the requested id; the message names the ids there are."""

    def __init__(self, kind: str, entity_id: str, known_ids: Iterable[str]) -> None:
        self.kind = kind
        self.entity_id = entity_id
        self.known_ids = list(known_ids)
        super().__init__(entity_id)

    def __str__(self) -> str:
        known = ", ".join(self.known_ids) or "none"
        return f"no {self.kind} with id {self.entity_id!r}; known {self.kind} ids: {known}"
