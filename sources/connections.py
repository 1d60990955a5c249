"""Named connections: a source names one, and its URL, headers and passwords are read
here from `.streamlit/secrets.toml` (`[connections.NAME] url = ...`, optional
`[connections.NAME.headers]`) or from an environment variable `OUTCOMES_CONNECTION_NAME`
(the URL). Nothing read here is stored, logged or shown; `secrets()` lists the values
that messages must never carry."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from core.sources import SourceError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
# Tests and deployments that keep the file elsewhere point at it with this variable.
SECRETS_FILE_VARIABLE = "OUTCOMES_SECRETS_FILE"
ENV_PREFIX = "OUTCOMES_CONNECTION_"


@dataclass(frozen=True)
class Connection:
    name: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def secrets(self) -> list[str]:
        """Every value a message must not show: the URL, its password, header values."""
        values = [self.url, *self.headers.values()]
        try:
            password = urlsplit(self.url).password
        except ValueError:
            password = None
        if password:
            values += [password, unquote(password)]
        return values


def env_name(name: str) -> str:
    """`warehouse` -> `OUTCOMES_CONNECTION_WAREHOUSE` (`-` becomes `_`)."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def secrets_file() -> Path:
    """The one secrets file of the app and the command line (metric-source connections,
    digest webhooks, the mail server): `.streamlit/secrets.toml`, or the file
    OUTCOMES_SECRETS_FILE names."""
    return Path(os.environ.get(SECRETS_FILE_VARIABLE) or SECRETS_FILE)


def secrets_section(name: str) -> dict[str, Any]:
    """The table `[name]` of the secrets file; empty when the file or the table is absent.
    A file that is not TOML raises SourceError naming the line, never quoting it."""
    path = secrets_file()
    if not path.is_file():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        # The parser's message may quote a line of the file: say where, not what.
        line = getattr(error, "lineno", None)
        at = f" (line {line})" if line else ""
        raise SourceError(f"{path.name} cannot be read{at}: fix the TOML") from None
    section = document.get(name)
    return section if isinstance(section, dict) else {}


def _file_connections() -> dict[str, Any]:
    return secrets_section("connections")


def connection_names() -> list[str]:
    """The names configured in the secrets file and the environment, sorted."""
    names = set(_file_connections())
    for variable in os.environ:
        if variable.startswith(ENV_PREFIX) and len(variable) > len(ENV_PREFIX):
            names.add(variable[len(ENV_PREFIX) :].lower())
    return sorted(names)


def resolve(name: str) -> Connection:
    """The connection called `name`; the environment variable wins over the file. A
    missing one raises SourceError saying where to configure it."""
    url = os.environ.get(env_name(name), "").strip()
    headers: dict[str, str] = {}
    entry = _file_connections().get(name)
    if isinstance(entry, dict):
        raw_headers = entry.get("headers")
        if isinstance(raw_headers, dict):
            headers = {str(k): str(v) for k, v in raw_headers.items()}
        if not url and isinstance(entry.get("url"), str):
            url = entry["url"].strip()
    if not url and not headers:
        raise SourceError(
            f"connection '{name}' is not configured: add [connections.{name}] url = \"...\" "
            f"to .streamlit/secrets.toml or set {env_name(name)}"
        )
    return Connection(name, url, headers)
