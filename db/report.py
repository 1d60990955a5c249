"""The PI report from the database: the snapshot query, then the core rules and shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from core.report import build_report as build_report_from_snapshot
from core.report import report_markdown
from db.queries import load_pi_snapshot

__all__ = ["build_report", "report_json", "report_markdown", "report_markdown_text"]


def report_json(
    session: Session, *, pi_name: str, as_of: dt.date, details: bool = False
) -> dict[str, Any]:
    """PRODUCT.md's Report JSON for a PI as of a date (exactly its fields; `details=True`
    adds reasons, evidence and bands for the Markdown document). Unknown PI:
    ValidationError naming `pi`."""
    snapshot = load_pi_snapshot(session, pi_name=pi_name, as_of=as_of)
    return build_report_from_snapshot(snapshot, details=details)


build_report = report_json


def report_markdown_text(session: Session, *, pi_name: str, as_of: dt.date) -> str:
    """The same report as a Markdown document for a wiki, with every reason."""
    return report_markdown(report_json(session, pi_name=pi_name, as_of=as_of, details=True))
