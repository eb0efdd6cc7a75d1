"""Constants of the ha-agent integration, in one place."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "ha_agent"
TITLE: Final = "ha-agent"

CONF_URL: Final = "url"
CONF_API_KEY: Final = "api_key"
DEFAULT_URL: Final = "http://127.0.0.1:8030"

# Every call to the agent has a deadline: HA's log must never fill with hung tasks.
CHECK_TIMEOUT_S: Final = 10.0
# A turn may wait for a language model and for HA to run several actions.
CHAT_TIMEOUT_S: Final = 90.0

# HA forgets a chat session after 5 minutes; the agent keeps conversations much longer, so the
# mapping from HA's conversation ids to the agent's is kept for a day.
CONVERSATION_TTL: Final = timedelta(hours=24)
