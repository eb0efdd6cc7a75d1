"""The agent's tables in the database (one MetaData, one migration chain) and the store the
history's and the tools' stores build on. `history` and `tools` share this room, never each other."""

from .base import AgentStore
from .chain import SCRIPT_LOCATION, TABLE_PREFIX, VERSION_TABLE
from .schema import audit, conversations, messages, metadata, pending_actions

__all__ = [
    "SCRIPT_LOCATION",
    "TABLE_PREFIX",
    "VERSION_TABLE",
    "AgentStore",
    "audit",
    "conversations",
    "messages",
    "metadata",
    "pending_actions",
]
