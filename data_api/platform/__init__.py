"""The platform both services stand on; it knows no Home Assistant.

`settings` (the one Settings), `logs`, `db` (engines, errors, migrations, the base store) and
`http` (the app frame, API keys, the browser rules, stats, Prometheus, the server, bodies).
"""
