"""The agent's one view of a home: what context, tools, intents and MCP all read.

    home = LocalHome(reader, Policy.from_settings(settings.tools))   # or RemoteHome(client, policy)
    snapshot = await home.snapshot()     # one turn's home: kinds, the layout's index, the policy
    entity = snapshot.resolve_entity("cooking light")          # names → ids, policy applied

`view` (the `HomeView` protocol), `local` / `remote` (the mirror in this process / a data-api),
`policy` (exposure, allow/deny, confirmation rules), `snapshot` and `index` (names, groups and
search over one layout), `words` (the one vocabulary), `errors` (`HomeError`).
"""

from .errors import HomeError
from .local import LocalHome
from .policy import EXPOSE_HINT, GENERIC_DOMAIN, ConfirmRule, Policy, effective_service
from .remote import RemoteHome
from .snapshot import IndexCache, Snapshot
from .view import HomeView

__all__ = [
    "EXPOSE_HINT",
    "GENERIC_DOMAIN",
    "ConfirmRule",
    "HomeError",
    "HomeView",
    "IndexCache",
    "LocalHome",
    "Policy",
    "RemoteHome",
    "Snapshot",
    "effective_service",
]
