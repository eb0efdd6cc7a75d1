"""The toolbox the agent uses: schemas for the model, execution of its calls, confirmations.

A turn: read the home once (one snapshot of the mirror for every call's names), plan each call
(arguments checked, names resolved, policy applied), store any action that needs the user's
confirmation, run the rest (`executor`), write every call to the audit trail. Nothing a call
does can raise out of `execute`: every call id gets exactly one outcome, in the model's order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from data_api.store.errors import StoreError
from ha_agent.context.builder import HomeView
from ha_agent.llm import ToolArgumentsError, ToolCall

from .actions import HomeActions
from .args import check_arguments
from .confirm import confirmation_reply, is_affirmative
from .definitions import TOOLS, TOOLS_BY_NAME
from .errors import ToolError
from .executor import Prepared, run_calls
from .outcome import PendingResolution, ToolOutcome, compact_json
from .plan import Action, plan_action
from .policy import Policy
from .snapshot import IndexCache, Snapshot
from .store import AuditEntry, ToolStore, utcnow

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ToolEnv:
    """What one conversation's calls run against."""

    conversation_id: str
    home: HomeView
    actions: HomeActions
    store: ToolStore


class Toolbox:
    def __init__(self, settings: Any) -> None:
        self.policy = Policy.from_settings(settings)
        self.timeout: float = settings.tools_timeout
        self.confirm_ttl: float = settings.tools_confirm_ttl
        self._schemas = [tool.schema() for tool in TOOLS]
        self._index = IndexCache()

    def schemas(self) -> list[dict[str, Any]]:
        """The OpenAI `tools` list: the same content on every call (a cacheable prefix)."""
        return list(self._schemas)

    # --- a model turn's calls -------------------------------------------------------------
    async def execute(self, calls: Sequence[ToolCall], env: ToolEnv) -> list[ToolOutcome]:
        if not calls:
            return []
        home, unreadable = await self._snapshot(env)
        prepared = [self._prepare(call, home, unreadable) for call in calls]
        prepared = await self._ask_confirmation(prepared, env)
        outcomes = await run_calls(prepared, env, self.timeout)
        await self._audit(env, outcomes)
        return outcomes

    async def _snapshot(self, env: ToolEnv) -> tuple[Snapshot | None, str | None]:
        try:
            return await Snapshot.read(env.home, self.policy, self._index), None
        except Exception as exc:  # the mirror's database tier down, a data-api unreachable
            _LOGGER.warning("tools: the home cannot be read: %s", exc)
            return None, "the home's data cannot be read right now; try again shortly"

    def _prepare(self, call: ToolCall, home: Snapshot | None, unreadable: str | None) -> Prepared:
        try:
            args = call.parsed_arguments()
        except ToolArgumentsError as exc:
            return Prepared(call, call.arguments, None, f"{exc}; send the arguments as one JSON object")
        tool = TOOLS_BY_NAME.get(call.name)
        if tool is None:
            return Prepared(call, args, None, f"unknown tool {call.name!r}; the tools are {', '.join(TOOLS_BY_NAME)}")
        if home is None:
            return Prepared(call, args, None, unreadable)
        try:
            return Prepared(call, args, tool.plan(home, check_arguments(tool.name, tool.parameters, args)))
        except ToolError as exc:
            return Prepared(call, args, None, str(exc))
        except Exception:  # a bug must cost one call, not the turn
            _LOGGER.exception("planning tool %s failed", call.name)
            return Prepared(call, args, None, "internal error while preparing this tool call")

    async def _ask_confirmation(self, prepared: list[Prepared], env: ToolEnv) -> list[Prepared]:
        """Store the turn's actions that need a yes, before anything runs; if they cannot be
        stored, they fail (an unstored question could never be answered)."""
        asking = [p for p in prepared if p.plan is not None and p.plan.confirm and p.plan.action]
        if not asking:
            return prepared
        pending = {
            "calls": [
                {"id": p.call.id, "name": p.call.name, "arguments": p.arguments, "action": p.plan.action.as_json()}
                for p in asking
                if p.plan is not None and p.plan.action is not None
            ]
        }
        try:
            await env.store.save_pending(env.conversation_id, pending, self.confirm_ttl)
        except Exception as exc:  # StoreError, or a value the database cannot hold
            _LOGGER.warning("tools: cannot store a confirmation request: %s", exc)
            failed = "cannot ask for confirmation right now (the database is unavailable); nothing was done"
            refused = {id(p) for p in asking}
            return [Prepared(p.call, p.arguments, None, failed) if id(p) in refused else p for p in prepared]
        return prepared

    # --- the user's answer to a confirmation ---------------------------------------------
    async def resolve_pending(self, message: str, env: ToolEnv) -> PendingResolution | None:
        """Call with every new user message, before the model (see `PendingResolution`)."""
        # Most turns have nothing pending: a read answers that without a write transaction.
        if await env.store.peek_pending(env.conversation_id) is None:
            return None
        pending = await env.store.take_pending(env.conversation_id)
        calls = (pending.action.get("calls") or []) if pending is not None else []
        if pending is None or pending.expired() or not calls:
            return None
        if not is_affirmative(message):
            return PendingResolution(outcome=None, reply=None, cancelled=True)
        home, unreadable = await self._snapshot(env)
        prepared, summaries = [], []
        for item in calls:
            call = ToolCall(str(item["id"]), str(item["name"]), compact_json(item.get("arguments") or {}))
            action = Action.from_json(item["action"])
            summaries.append(action.summary or action.key)
            if home is None:
                prepared.append(Prepared(call, item.get("arguments") or {}, None, unreadable))
                continue
            try:  # the policy again: exposure or rules may have changed since the question
                prepared.append(Prepared(call, item.get("arguments") or {}, plan_action(home, action, confirmed=True)))
            except ToolError as exc:
                prepared.append(Prepared(call, item.get("arguments") or {}, None, str(exc)))
        outcomes = await run_calls(prepared, env, self.timeout)
        await self._audit(env, outcomes, confirmed=True)
        return PendingResolution(
            outcome=outcomes[0] if outcomes else None,
            reply=confirmation_reply(outcomes, summaries),
            outcomes=tuple(outcomes),
        )

    # --- audit ----------------------------------------------------------------------------
    async def _audit(self, env: ToolEnv, outcomes: Sequence[ToolOutcome], *, confirmed: bool = False) -> None:
        """Every call, in one insert; a failing audit is logged, never the turn's failure."""
        now = utcnow()
        entries = [
            AuditEntry(
                conversation_id=env.conversation_id,
                tool=o.name,
                arguments=o.arguments if isinstance(o.arguments, dict) else {"raw": o.arguments},
                result=_plain({"confirmed_by_user": True, **o.result} if confirmed and isinstance(o.result, dict)
                              else o.result),  # fmt: skip
                error=o.error,
                duration_ms=o.duration_ms,
                created_at=now,
            )
            for o in outcomes
        ]
        try:
            await env.store.add_audit(entries)
        except StoreError as exc:
            _LOGGER.warning("tools: audit not written: %s", exc)
        except Exception:  # a bug here must not lose the turn's results
            _LOGGER.exception("tools: audit not written")


def _plain(value: Any) -> Any:
    """JSON-safe (HA responses may hold values json cannot store as they are)."""
    return json.loads(compact_json(value)) if value is not None else None
