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
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.test_data_api import AUTH, ServedMirror

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


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


# The operations are driven with plain `hypothesis.given` rather than schemathesis' pytest
# plugin: its lazy (fixture-loaded) schemas rely on pytest internals that pytest 9 renamed.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_every_operation_conforms_whatever_the_input(
    api_schema: schemathesis.BaseSchema, served_for_fuzzing: ServedMirror, mode: GenerationMode
) -> None:
    failures: dict[str, BaseException] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,  # the same examples every run: a failure here is reproducible
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=served_for_fuzzing.url, headers=AUTH, checks=CHECKS)

        try:
            call()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # no parameter to make invalid
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = exc
    assert not failures, "\n\n".join(f"{label}:\n{exc}" for label, exc in failures.items())


def test_the_document_describes_every_endpoint(api_schema: schemathesis.BaseSchema) -> None:
    paths = set(api_schema.raw_schema["paths"])
    kinds = ("floors", "areas", "labels", "devices", "entities", "services", "helpers", "scenes", "scripts")
    assert {f"/api/v1/{kind}" for kind in kinds} <= paths
    assert {"/api/v1/entities/{entity_id}", "/api/v1/config", "/health", "/health/detailed", "/metrics"} <= paths
    entities = api_schema.raw_schema["paths"]["/api/v1/entities"]["get"]
    names = {parameter["name"] for parameter in entities["parameters"]}
    assert names == {"area", "floor", "domain", "device_id", "label", "exposed", "q", "limit", "cursor", "If-None-Match"}
    assert entities["summary"] and entities["responses"]["200"]["content"]["application/json"]["schema"]
    assert api_schema.raw_schema["components"]["securitySchemes"]
