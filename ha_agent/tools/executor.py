"""Running one model turn's tool calls: in parallel where independent, in order where not.

Each call waits only for the calls it depends on (`Plan.waits_for`): writes to overlapping
entities in the model's order, reads after the writes that change what they read. The rest run
together, so three independent 100 ms calls take ~100 ms. Each call has its own timeout; a
failure or timeout is that call's error result and never cancels another call. After an action,
the result reports the targets' new states as the mirror sees them, once the state change has
reached it (bounded wait).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from data_api import Entity, HACommandError, HAConnectionError, HAError, HATimeoutError
from ha_agent.home import HomeError
from ha_agent.llm import ToolCall

from .outcome import ToolOutcome
from .plan import Action, Plan
from .states import state_row

_LOGGER = logging.getLogger(__name__)

SETTLE_LIMIT = 1.0  # seconds an action's result waits, at most, for the mirror to show it
SETTLE_QUIET = 0.1  # ...or this long without any target changing (a no-op: already on)
_POLL = 0.005
# The state change usually arrives with the call's result and is a few event-loop turns from
# the mirror (reader task → event queue → mirror): look again at once that many times first.
_EAGER_LOOKS = 20


@dataclass(frozen=True, slots=True)
class Prepared:
    """A call ready to run: its plan, or the error it already has (bad arguments, refused)."""

    call: ToolCall
    arguments: dict[str, Any] | str
    plan: Plan | None
    error: str | None = None


def dependencies(prepared: Sequence[Prepared]) -> list[list[int]]:
    """For each call, the positions of the calls it must wait for."""
    plans = [p.plan for p in prepared]
    return [
        [j for j, other in enumerate(plans) if j != i and plan and other and plan.waits_for(other, j < i)]
        for i, plan in enumerate(plans)
    ]


async def run_calls(prepared: Sequence[Prepared], env: Any, timeout: float) -> list[ToolOutcome]:
    """One outcome per call, in the given order; never raises for a call that fails."""
    finished = [asyncio.Event() for _ in prepared]
    waits = dependencies(prepared)

    async def run(i: int) -> ToolOutcome:
        try:
            for j in waits[i]:
                await finished[j].wait()
            return await _run_one(prepared[i], env, timeout)
        finally:
            finished[i].set()

    return list(await asyncio.gather(*(run(i) for i in range(len(prepared)))))


async def _run_one(item: Prepared, env: Any, timeout: float) -> ToolOutcome:
    started = time.monotonic()
    result: Any = None
    error = item.error
    plan = item.plan
    needs_confirmation = False
    if error is None and plan is not None and plan.runs:
        # Planned without what its scripts do: never run (the toolbox plans such calls again).
        _LOGGER.error("tool %s reached the executor with unchecked effects", item.call.name)
        error = "internal error: what this call would run was not checked; nothing was done"
    elif error is None and plan is not None:
        try:
            if plan.confirm and plan.action is not None:
                result, needs_confirmation = confirmation_request(plan.action), True
            elif plan.read is not None:
                result = await asyncio.wait_for(plan.read(env), timeout)
            elif plan.action is not None:
                result = await asyncio.wait_for(perform(plan.action, env, timeout), timeout)
        except HomeError as exc:
            error = str(exc)
        except (TimeoutError, HATimeoutError):
            error = f"timed out after {timeout:g} s" + (
                "; the action may still happen: check the state before retrying" if plan.is_write else ""
            )
        except HACommandError as exc:
            what = plan.action.key if plan.action is not None else item.call.name
            error = f"Home Assistant rejected {what}: {exc.message}"
        except HAConnectionError:
            error = "Home Assistant is unreachable right now; nothing was done"
        except HAError as exc:
            error = f"Home Assistant failed: {exc}"
        except Exception:  # a bug must cost one call, not the turn
            _LOGGER.exception("tool %s failed", item.call.name)
            error = "internal error while running this tool"
    ended = time.monotonic()
    return ToolOutcome(
        id=item.call.id,
        name=item.call.name,
        arguments=item.arguments,
        result=result,
        error=error,
        duration_ms=(ended - started) * 1000,
        started_at=started,
        ended_at=ended,
        needs_confirmation=needs_confirmation,
    )


def confirmation_request(action: Action) -> dict[str, Any]:
    return {
        "needs_confirmation": True,
        "action": action.summary or action.key,
        "note": "Not done: the owner wants the person's yes first. The question is put to them for you, "
        "in words of its own; do not ask it again and do not say it is done. It runs only if their "
        "next message is a yes.",
    }


async def perform(action: Action, env: Any, timeout: float) -> dict[str, Any]:
    """Call the service, then report the new states once the mirror has them."""
    watched = action.watched
    # Read as `settle` reads: a copy's older stamp would look like the action's change.
    now = await env.home.entities_now(watched)
    before = {e: now[e].last_updated if e in now else None for e in watched}
    target = {"entity_id": list(action.entity_ids)} if action.targeted and action.entity_ids else None
    answer = await env.actions.call_service(
        action.domain,
        action.service,
        dict(action.data) or None,
        target=target,
        return_response=action.return_response,
        timeout=timeout,
    )
    response = answer.get("response") if isinstance(answer, dict) else None
    if action.read_only:
        return {"response": response}
    entities = await settle(env.home, watched, before)
    result: dict[str, Any] = {"done": action.summary or action.key}
    if env.home.stale:
        # The mirror is not following Home Assistant right now (reconnecting after a restart):
        # the states it holds are from before, and must not be reported as the call's effect.
        result["confirmed"] = False
        result["note"] = "sent; the new state is not confirmed yet (Home Assistant's connection is being restored)"
    else:
        result["states"] = [state_row(entities[e]) for e in watched if e in entities]
    if response:
        result["response"] = response
    return result


async def settle(home: Any, watched: Sequence[str], before: dict[str, str | None]) -> dict[str, Entity]:
    """The watched entities once every one's `last_updated` moved — or nothing moved for
    SETTLE_QUIET (the call changed nothing), or SETTLE_LIMIT passed (a slow device). Read with
    `entities_now`: an agent reading a data-api would otherwise see its copy, not the change."""
    loop = asyncio.get_running_loop()
    start = last_change = loop.time()
    moved_before = looks = -1
    while True:
        looks += 1
        entities = await home.entities_now(watched)
        moved = sum(1 for e in watched if e in entities and entities[e].last_updated != before.get(e))
        now = loop.time()
        if moved == len(watched):
            return entities
        if moved != moved_before:
            moved_before, last_change = moved, now
        if now - last_change >= SETTLE_QUIET or now - start >= SETTLE_LIMIT:
            return entities
        await asyncio.sleep(0 if looks < _EAGER_LOOKS else _POLL)
