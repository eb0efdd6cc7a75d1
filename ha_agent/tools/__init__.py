"""The agent's tools: compact schemas, name resolution through the mirror, the owner's policy,
parallel execution with dependency ordering, confirmations and the audit trail.

    toolbox = Toolbox(settings.tools)
    tools = toolbox.schemas()                       # the model's `tools`, the same every turn
    env = ToolEnv(conversation_id, LocalHome(reader, Policy.from_settings(settings.tools)), HAActions(mirror.client), ToolStore(engine))
    resolution = await toolbox.resolve_pending(user_message, env)   # before the model
    outcomes = await toolbox.execute(completion.tool_calls, env)   # one per call, in order
    messages += [o.as_tool_message() for o in outcomes]
"""

from .actions import HAActions, HomeActions
from .confirm import AFFIRMATIVE_WORDS, CONSENT_WORDS, is_affirmative
from .definitions import TOOLS
from .errors import ToolError
from .outcome import OpenQuestion, PendingResolution, ToolOutcome
from .store import AuditEntry, PendingAction, ToolStore
from .toolbox import ActionBudget, Toolbox, ToolEnv

__all__ = [
    "ActionBudget",
    "OpenQuestion",
    "AFFIRMATIVE_WORDS",
    "CONSENT_WORDS",
    "TOOLS",
    "AuditEntry",
    "HAActions",
    "HomeActions",
    "PendingAction",
    "PendingResolution",
    "ToolEnv",
    "ToolError",
    "ToolOutcome",
    "ToolStore",
    "Toolbox",
    "is_affirmative",
]
