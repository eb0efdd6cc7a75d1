"""The mirror's REST API (`/api/v1`), its health and metrics endpoints, and inbound API keys.

Modules: `app` (create_app), `routes`, `health`, `auth` (ApiKeyAuth, the loopback rule),
`bodies` (serialized-body cache, ETags, gzip), `stats`, `errors`, `schemas`, `server`
(HttpServer), `client` (DataApiClient). Nothing is imported here, so that a light user (the
CLI's `query` needs only `client`) does not load the server, FastAPI and the database.
"""
