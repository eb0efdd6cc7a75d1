"""Logging set-up shared by every command: one format, and secrets masked as a last line of defence.

The code never logs a token on purpose; the filter catches the accident (a library echoing a
header, an exception carrying a URL with a key in it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

_MASK = "***"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Short strings would mask ordinary words; real tokens and keys are long.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, _MASK)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self._secrets:
                text = text.replace(secret, _MASK)
            record.exc_text, record.exc_info = text, None
        return True


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that narrate routine work at INFO (a line per migration plugin, per request).
    for name in ("alembic", "httpx"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # uvicorn installs its own handlers; route them through ours so the filter applies.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True


def settings_secrets(settings: object) -> list[str]:
    """Every secret value a settings object holds (for `RedactSecrets`)."""
    values = []
    for name in ("ha_token", "llm_api_key"):
        secret = getattr(settings, name, None)
        if secret is not None:
            values.append(secret.get_secret_value())
    values += [key.get_secret_value() for key in getattr(settings, "api_keys", [])]
    return values


def display_url(url: str | None) -> str:
    """A URL fit to print: without `user:password@`, a query or a fragment (any may be a secret)."""
    if not url:
        return str(url)
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
