"""One table answers every engine error, on /api/v1 and on /engine-rest (issue 18, item 3)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import engine.errors as engine_errors
from api.errors import ERRORS, OTHER, mapping_for
from engine.errors import EngineError

# Every error the engine raises, with the message argument its constructor needs.
KINDS = [cls for _, cls in inspect.getmembers(engine_errors, inspect.isclass)
         if issubclass(cls, EngineError) and cls is not EngineError]


def make(cls: type[EngineError]) -> EngineError:
    if cls.__name__ == "DeploymentRejected":
        return cls([])  # type: ignore[arg-type]
    if cls.__name__ == "TooManyAttempts":
        return cls("slow down", 30)  # type: ignore[call-arg]
    return cls("something")


@pytest.mark.parametrize("cls", KINDS, ids=[c.__name__ for c in KINDS])
def test_every_engine_error_has_its_row(cls: type[EngineError]) -> None:
    row = mapping_for(make(cls))
    assert row is not OTHER
    assert issubclass(cls, row.error)
    assert 400 <= row.status < 500 and 400 <= row.camunda_status < 500
    assert row.camunda_type.endswith("Exception")


def test_a_subclass_row_comes_before_its_parents_row() -> None:
    for i, row in enumerate(ERRORS):
        for later in ERRORS[i + 1:]:
            assert not issubclass(later.error, row.error), (later.error, row.error)


def test_both_apis_answer_from_the_table(as_user: Any, server: str) -> None:
    admin = as_user("admin1")
    missing = "00000000-0000-0000-0000-000000000000"
    v1 = admin.get(f"/api/v1/process-instances/{missing}")
    assert v1.status_code == 404 and v1.json()["type"] == "/problems/not-found"
    rest = admin.http.get(f"{server}/engine-rest/process-instance/{missing}", timeout=30)
    assert rest.status_code == 404
    assert rest.json()["type"] == "InvalidRequestException"
