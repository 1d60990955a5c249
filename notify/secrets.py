"""Secrets for delivery, read from `.streamlit/secrets.toml` without Streamlit (the command
line sends digests from cron): the `[digest.webhooks]` table maps a name to a webhook URL,
`[digest.smtp]` holds the mail server. The database stores only the names.

The file is the one `sources.connections.secrets_file` names (OUTCOMES_SECRETS_FILE may
point at another); metric-source connections live in the same file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.sources import SourceError
from sources.connections import secrets_file, secrets_section


class SecretMissing(LookupError):
    """A destination names a secret that is not configured."""


def _digest_section() -> dict[str, Any]:
    try:
        return secrets_section("digest")
    except SourceError as error:
        raise SecretMissing(str(error)) from None


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
