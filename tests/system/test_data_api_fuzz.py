"""Property-based checks of the data-api from its own OpenAPI document (schemathesis).

Every operation is called with generated valid and invalid parameters, over real HTTP against
the served stack of `test_data_api.py` (simulated small home, SQLite, mirror, uvicorn), with an
API key. Whatever the input: never a 5xx, and status, content type, headers and body conform to
the document. Examples are bounded so the module runs well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis import GenerationMode

from tests.data_api.test_data_api import AUTH, ServedMirror
from tests.support.fuzzing import all_operations, fuzz_operations, report


@pytest.fixture(scope="module")
def served_for_fuzzing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedMirror]:
    stack = ServedMirror(Path(tmp_path_factory.mktemp("data-api-fuzz"))).start()
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def api_schema(served_for_fuzzing: ServedMirror) -> schemathesis.BaseSchema:
    # The document itself needs the key: every path but /health does.
    return schemathesis.openapi.from_url(f"{served_for_fuzzing.url}/openapi.json", headers=AUTH)


EXAMPLES_PER_OPERATION = 25


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_every_operation_conforms_whatever_the_input(
    api_schema: schemathesis.BaseSchema, served_for_fuzzing: ServedMirror, mode: GenerationMode
) -> None:
    operations = all_operations(api_schema)
    assert len(operations) >= 14
    failures = fuzz_operations(
        operations, mode, base_url=served_for_fuzzing.url, headers=AUTH, max_examples=EXAMPLES_PER_OPERATION
    )
    assert not failures, report(failures)


def test_the_document_describes_every_endpoint(api_schema: schemathesis.BaseSchema) -> None:
    paths = set(api_schema.raw_schema["paths"])
    kinds = ("floors", "areas", "labels", "devices", "entities", "services", "helpers", "scenes", "scripts")
    assert {f"/api/v1/{kind}" for kind in kinds} <= paths
    assert {"/api/v1/entities/{entity_id}", "/api/v1/config", "/health", "/health/detailed", "/metrics"} <= paths
    entities = api_schema.raw_schema["paths"]["/api/v1/entities"]["get"]
    names = {parameter["name"] for parameter in entities["parameters"]}
    assert names == {
        "area",
        "floor",
        "domain",
        "device_id",
        "label",
        "exposed",
        "q",
        "limit",
        "cursor",
        "If-None-Match",
    }
    assert entities["summary"] and entities["responses"]["200"]["content"]["application/json"]["schema"]
    assert api_schema.raw_schema["components"]["securitySchemes"]
