"""The agent's REST API: chat, conversations, the context and the tools' audit, beside health
and metrics, and the mirror's routes when the mirror runs in the same process.

Modules: `app` (create_app), `chat` (chat and conversations), `inspect` (context and audit),
`health`, `errors`, `body` (reading a JSON body), `schemas`, `sse` (writing events), `client`
(AgentClient, for `ha-agent chat`). Nothing is imported here, so that the CLI's `chat` loads only
the client, not FastAPI and the database.
"""
