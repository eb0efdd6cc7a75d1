"""Where the database tests find PostgreSQL, and what happens when it is not there.

PostgreSQL comes from $TEST_DATABASE_URL (default: the local server, database `test`). When it
cannot be reached its tests are skipped, except on CI (`CI=true`), where that is a failure.
"""

from __future__ import annotations

import os

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
