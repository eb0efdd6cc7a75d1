"""The toolbox the agent uses: schemas for the model, execution of its calls, confirmations.

A turn: read the home once (one snapshot of the mirror for every call's names), plan each call
(arguments checked, names resolved, policy applied), store any action that needs the user's
confirmation, run the rest (`executor`), write every call to the audit trail. Nothing a call
does can raise out of `execute`: every call id gets exactly one outcome, in the model's order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from data_api.platform.db.errors import StoreError
from data_api.platform.settings import ToolSettings
from ha_agent.home import HomeError, HomeView, Snapshot
from ha_agent.llm import ToolArgumentsError, ToolCall

from .actions import HomeActions
from .args import check_arguments
from .confirm import confirmation_reply, is_affirmative, is_refusal
from .definitions import TOOLS, TOOLS_BY_NAME
from .effects import EffectsCache
from .executor import Prepared, run_calls
from .outcome import OpenQuestion, PendingResolution, ToolOutcome, compact_json
from .plan import Action, plan_action
from .store import AuditEntry, ToolStore, utcnow
from .wording import question

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class ActionBudget:
    """How many more service calls a turn may make (every round of it draws on one budget)."""

    left: int

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass(frozen=True, slots=True)
class ToolEnv:
    """What one conversation's calls run against; `budget`: the turn's, shared by its rounds
    (None: each `execute` gets the toolbox's own cap)."""

    conversation_id: str
    home: HomeView
    actions: HomeActions
    store: ToolStore
    budget: ActionBudget | None = None


class Toolbox:
    def __init__(self, settings: ToolSettings) -> None:
        self.timeout = settings.timeout
        self.confirm_ttl = settings.confirm_ttl
        self.max_actions = settings.max_actions_per_turn
        self._schemas = [tool.schema() for tool in TOOLS]
        self._effects = EffectsCache()

    def budget(self) -> ActionBudget:
        """A new turn's budget of service calls."""
        return ActionBudget(self.max_actions)

    def schemas(self) -> list[dict[str, Any]]:
        """The OpenAI `tools` list: the same content on every call (a cacheable prefix)."""
        return list(self._schemas)

    # --- a model turn's calls -------------------------------------------------------------
    async def execute(self, calls: Sequence[ToolCall], env: ToolEnv) -> list[ToolOutcome]:
        if not calls:
            return []
        home, unreadable = await self._snapshot(env)
        prepared = [self._prepare(call, home, unreadable) for call in calls]
        if home is not None:
            prepared = await self._check_reach(prepared, home, env)
        prepared = self._within_budget(prepared, env.budget or self.budget())
        prepared = await self._ask_confirmation(prepared, env)
        outcomes = await run_calls(prepared, env, self.timeout)
        await self._audit(env, outcomes)
        return outcomes

    async def _snapshot(self, env: ToolEnv) -> tuple[Snapshot | None, str | None]:
        try:
            return await env.home.snapshot(), None
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
        except HomeError as exc:
            return Prepared(call, args, None, str(exc))
        except Exception:  # a bug must cost one call, not the turn
            _LOGGER.exception("planning tool %s failed", call.name)
            return Prepared(call, args, None, "internal error while preparing this tool call")

    async def _check_reach(
        self, prepared: list[Prepared], home: Snapshot, env: ToolEnv, *, confirmed: bool = False
    ) -> list[Prepared]:
        """Plans that run scripts or automations, planned again with what those do (read from
        Home Assistant, cached), so a script is no way around a rule."""
        runs = {run for p in prepared if p.plan is not None for run in p.plan.runs}
        if not runs:
            return prepared
        effects = await self._effects.get(runs, env.actions.run_config)
        checked = []
        for p in prepared:
            if p.plan is None or not p.plan.runs or p.plan.action is None:
                checked.append(p)
                continue
            try:
                checked.append(replace(p, plan=plan_action(home, p.plan.action, confirmed=confirmed, effects=effects)))
            except HomeError as exc:
                checked.append(Prepared(p.call, p.arguments, None, str(exc)))
        return checked

    def _within_budget(self, prepared: list[Prepared], budget: ActionBudget) -> list[Prepared]:
        """Service calls past the turn's cap fail (asked-for ones count: a yes would run them)."""
        out = []
        for p in prepared:
            if p.plan is not None and p.plan.is_write and not budget.take():
                p = Prepared(
                    p.call,
                    p.arguments,
                    None,
                    f"not done: this turn already made {self.max_actions} service calls, the most one "
                    "turn may; tell the user what was done and let them ask for the rest",
                )
            out.append(p)
        return out

    async def _ask_confirmation(self, prepared: list[Prepared], env: ToolEnv) -> list[Prepared]:
        """Add the turn's actions that need a yes to the conversation's open question, before
        anything runs; if they cannot be stored, they fail (an unstored question could never
        be answered)."""
        asking = [p for p in prepared if p.plan is not None and p.plan.confirm and p.plan.action]
        if not asking:
            return prepared
        calls = [
            {
                "id": p.call.id,
                "name": p.call.name,
                "arguments": p.arguments,
                "action": p.plan.action.as_json(),
                "reasons": list(p.plan.reasons),
            }
            for p in asking
            if p.plan is not None and p.plan.action is not None
        ]
        try:
            await env.store.add_pending(env.conversation_id, calls, self.confirm_ttl)
        except Exception as exc:  # StoreError, or a value the database cannot hold
            _LOGGER.warning("tools: cannot store a confirmation request: %s", exc)
            failed = "cannot ask for confirmation right now (the database is unavailable); nothing was done"
            refused = {id(p) for p in asking}
            return [Prepared(p.call, p.arguments, None, failed) if id(p) in refused else p for p in prepared]
        return prepared

    # --- the user's answer to a confirmation ---------------------------------------------
    async def resolve_pending(self, message: str, env: ToolEnv) -> PendingResolution | None:
        """Call with every new user message, before the model (see `PendingResolution`).

        Whatever is pending is taken now, so the question is answered once: a yes runs exactly
        the recorded calls (checked against the policy again), anything else cancels them.
        """
        # Most turns have nothing pending: a read answers that without a write transaction.
        if await env.store.peek_pending(env.conversation_id) is None:
            return None
        pending = await env.store.take_pending(env.conversation_id)
        calls = (pending.action.get("calls") or []) if pending is not None else []
        if pending is None or pending.expired() or not calls:
            return None
        summaries = tuple(_summary(item) for item in calls)
        if not is_affirmative(message):
            return PendingResolution(
                outcome=None, reply=None, cancelled=True, asked=summaries, refused=is_refusal(message)
            )
        home, unreadable = await self._snapshot(env)
        prepared = []
        for item in calls:
            call = ToolCall(str(item["id"]), str(item["name"]), compact_json(item.get("arguments") or {}))
            arguments = item.get("arguments") or {}
            if home is None:
                prepared.append(Prepared(call, arguments, None, unreadable))
                continue
            try:  # the policy again: exposure or rules may have changed since the question
                plan = plan_action(home, Action.from_json(item["action"]), confirmed=True)
                prepared.append(Prepared(call, arguments, plan))
            except HomeError as exc:
                prepared.append(Prepared(call, arguments, None, str(exc)))
        if home is not None:
            prepared = await self._check_reach(prepared, home, env, confirmed=True)
        outcomes = await run_calls(prepared, env, self.timeout)
        await self._audit(env, outcomes, confirmed=True)
        return PendingResolution(
            outcome=outcomes[0] if outcomes else None,
            reply=confirmation_reply(outcomes, summaries),
            outcomes=tuple(outcomes),
            asked=summaries,
        )

    async def open_question(self, env: ToolEnv) -> OpenQuestion | None:
        """The conversation's question awaiting a yes, in the words the code wrote for it."""
        pending = await env.store.peek_pending(env.conversation_id)
        calls = (pending.action.get("calls") or []) if pending is not None else []
        if pending is None or pending.expired() or not calls:
            return None
        items = [(_summary(item), tuple(item.get("reasons") or ())) for item in calls]
        return OpenQuestion(
            question(items),
            tuple(summary for summary, _ in items),
            tuple(str(item["id"]) for item in calls),
            pending.expires_at,
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
                result=_plain(
                    {"confirmed_by_user": True, **o.result} if confirmed and isinstance(o.result, dict) else o.result
                ),
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


def _summary(item: Mapping[str, Any]) -> str:
    action = item.get("action") or {}
    return str(action.get("summary") or f"{action.get('domain')}.{action.get('service')}")


def _plain(value: Any) -> Any:
    """JSON-safe (HA responses may hold values json cannot store as they are)."""
    return json.loads(compact_json(value)) if value is not None else None
