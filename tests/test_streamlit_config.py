"""Issue 15: the committed Streamlit settings that security depends on."""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit.config

ROOT = Path(__file__).resolve().parents[1]


def settings() -> dict[str, dict[str, object]]:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text("utf-8"))


def test_table_toolbar_cannot_export_user_text_as_formulas() -> None:
    # A note "=HYPERLINK(...)" left Streamlit's toolbar "Download as CSV" as a live formula.
    assert "client.disableDataExport" in streamlit.config._config_options_template
    assert settings()["client"]["disableDataExport"] is True


def test_xsrf_and_cors_protection_stay_on() -> None:
    server = settings()["server"]
    assert server["enableXsrfProtection"] is True and server["enableCORS"] is True
