"""Secrets for delivery, read from `.streamlit/secrets.toml` without Streamlit (the command
line sends digests from cron): the `[digest.webhooks]` table maps a name to a webhook URL,
`[digest.smtp]` holds the mail server. The database stores only the names.

`OUTCOMES_SECRETS_FILE` points at another file (tests, or a file outside the app folder)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"


class SecretMissing(LookupError):
    """A destination names a secret that is not configured."""


def secrets_file() -> Path:
    return Path(os.environ.get("OUTCOMES_SECRETS_FILE") or DEFAULT_FILE)


def _digest_section() -> dict[str, Any]:
    path = secrets_file()
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    section = data.get("digest", {})
    return section if isinstance(section, dict) else {}


def webhook_url(name: str) -> str:
    """The URL of the webhook called `name`. Never log or show it: it is the credential."""
    hooks = _digest_section().get("webhooks", {})
    url = hooks.get(name) if isinstance(hooks, dict) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise SecretMissing(f"no webhook '{name}' in [digest.webhooks] of {secrets_file().name}")
    return url


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str = ""
    password: str = ""
    sender: str = "outcome-board@localhost"


def smtp_settings() -> SmtpSettings:
    smtp = _digest_section().get("smtp")
    if not isinstance(smtp, dict) or not isinstance(smtp.get("host"), str):
        raise SecretMissing(f"no [digest.smtp] host in {secrets_file().name}")
    return SmtpSettings(
        host=smtp["host"],
        port=int(smtp.get("port", 587)),
        starttls=bool(smtp.get("starttls", True)),
        ssl=bool(smtp.get("ssl", False)),
        username=str(smtp.get("username", "")),
        password=str(smtp.get("password", "")),
        sender=str(smtp.get("sender", "outcome-board@localhost")),
    )
