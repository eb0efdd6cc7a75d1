"""Property-based checks of a served API from its own OpenAPI document (schemathesis), shared by
the data-api's and the agent's fuzz modules.

Every operation is called with generated valid or invalid input over real HTTP; whatever the
input: never a 5xx, and status, content type, headers and body conform to the document, and
invalid input is refused. Each operation's failure is collected, so one run reports them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CheckFunction = Callable[..., object]

CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def all_operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


# The operations are driven with plain `hypothesis.given` rather than schemathesis' pytest
# plugin: its lazy (fixture-loaded) schemas rely on pytest internals that pytest 9 renamed.
def fuzz_operations(
    operations: list[schemathesis.APIOperation],
    mode: GenerationMode,
    *,
    base_url: str,
    headers: dict[str, str],
    max_examples: int,
    explicit: Mapping[str, Sequence[dict[str, Any]]] | None = None,
) -> dict[str, BaseException]:
    """Each operation's first failure, by label (empty: all conform). `explicit`: valid cases
    (`operation.Case` arguments) run first in positive mode, for what random input rarely reaches
    (an existing id)."""
    failures: dict[str, BaseException] = {}
    for operation in operations:
        cases = (explicit or {}).get(operation.label, ()) if mode is GenerationMode.POSITIVE else ()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=max_examples,
            deadline=None,
            derandomize=True,  # the same examples every run: a failure here is reproducible
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

        for arguments in cases:
            call = example(case=operation.Case(**arguments))(call)

        try:
            call()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # no parameter to make invalid
        # Collect every operation's failure, then report them all. Schemathesis' FailureGroup is a
        # BaseExceptionGroup: `except Exception` alone would let the first one end the loop.
        except (Exception, FailureGroup) as exc:
            failures[operation.label] = exc
    return failures


def report(failures: Mapping[str, BaseException]) -> str:
    return "\n\n".join(f"{label}:\n{exc}" for label, exc in failures.items())
