"""The one error the store raises, and the translation of driver errors into it.

Callers (the cache tiers, the CLI) need one thing to catch when the database tier fails, with a
message fit to log or show: what failed, which database (password hidden), and why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# PostgreSQL SQLSTATEs meaning "another transaction holds what we need".
_PG_BUSY = frozenset({"55P03", "40P01", "40001"})  # lock_not_available, deadlock, serialization
# SQLSTATEs meaning the server is gone or will not let us in: connection exceptions, operator
# intervention (shutdown), insufficient resources (too many connections), bad login, no database.
_PG_UNREACHABLE_CLASSES = ("08", "57P", "53", "28", "3D000")


class StoreError(Exception):
    """The database is unreachable, busy, or refused an operation; the message says which."""

    def __init__(self, message: str, *, reason: str = "error") -> None:
        super().__init__(message)
        self.reason = reason  # "unreachable", "busy" or "error": lets callers decide to retry


def translate(exc: BaseException, action: str, database: str, secrets: tuple[str, ...] = ()) -> StoreError:
    """A `StoreError` for `exc`, raised while doing `action` on `database` (a password-free URL)."""
    detail = _detail(exc)
    for secret in secrets:  # belt and braces: a driver might echo connection parameters
        if secret:
            detail = detail.replace(secret, "***")
    reason = _reason(exc, detail)
    what = {
        "unreachable": "is unreachable",
        "busy": "is busy (another connection holds a lock)",
        "error": "failed",
    }[reason]
    return StoreError(f"{action}: database {database} {what}: {detail}", reason=reason)


@asynccontextmanager
async def guard(action: str, database: str, secrets: tuple[str, ...] = ()) -> AsyncIterator[None]:
    """Turn any database failure inside into one `StoreError` naming the action and database."""
    try:
        yield
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        raise translate(exc, action, database, secrets) from exc


def _detail(exc: BaseException) -> str:
    # SQLAlchemy's own message repeats the SQL and its parameters; the driver's is the point.
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return text[:300]


def _reason(exc: BaseException, detail: str) -> str:
    lowered = detail.lower()
    sqlstate = str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "")
    if "database is locked" in lowered or "database is busy" in lowered or sqlstate in _PG_BUSY:
        return "busy"
    if isinstance(exc, (OSError, TimeoutError, PoolTimeoutError, InterfaceError)):
        return "unreachable"
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unreachable"
    if sqlstate.startswith(_PG_UNREACHABLE_CLASSES):
        return "unreachable"
    if isinstance(exc, OperationalError) and "unable to open database" in lowered:
        return "unreachable"
    return "error"
