"""Conversation history: conversations and messages in the mirror's database, each message's
token count computed once when stored, and the choice of messages that fit a token budget."""

from .messages import (
    MESSAGE_OVERHEAD,
    NAME_OVERHEAD,
    Conversation,
    ConversationNotFound,
    InvalidMessage,
    StoredMessage,
    count_message_tokens,
)
from .store import ConversationStore
from .window import Window, select_window

__all__ = [
    "MESSAGE_OVERHEAD",
    "NAME_OVERHEAD",
    "Conversation",
    "ConversationNotFound",
    "ConversationStore",
    "InvalidMessage",
    "StoredMessage",
    "Window",
    "count_message_tokens",
    "select_window",
]
