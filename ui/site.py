"""The site's page list and the `Frame` every page gets from the page frame. Imports
nothing from ui/, so every ui module may import it (the frame itself, in ui/frame.py,
draws the navigation and needs auth, setup and data)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from core.access import Actor

# Parameters that travel with every navigation link, so context survives a page change.
SHARED_PARAMS = ("train", "pi", "team", "outcome", "as_of")


@dataclass(frozen=True)
class PageSpec:
    key: str
    path: str  # as st.page_link wants it
    title: str
    icon: str
    group: str
    access: str  # "read", "edit" (editors and admins) or "admin"


PAGES: dict[str, PageSpec] = {
    spec.key: spec
    for spec in (
        PageSpec("overview", "app.py", "PI overview", ":material/dashboard:", "Dashboards", "read"),
        PageSpec("team", "pages/team.py", "Team", ":material/groups:", "Dashboards", "read"),
        PageSpec("outcome", "pages/outcome.py", "Outcome", ":material/flag:", "Dashboards", "read"),
        PageSpec(
            "metric",
            "pages/metric.py",
            "Metric history",
            ":material/history:",
            "Dashboards",
            "read",
        ),
        PageSpec(
            "review", "pages/review.py", "PI review", ":material/fact_check:", "Dashboards", "read"
        ),
        PageSpec(
            "present", "pages/present.py", "Present", ":material/slideshow:", "Dashboards", "read"
        ),
        PageSpec("record", "pages/record.py", "Record", ":material/edit_note:", "Update", "edit"),
        PageSpec("plan", "pages/plan.py", "Plan", ":material/edit_calendar:", "Update", "edit"),
        PageSpec("admin", "pages/admin.py", "Admin", ":material/settings:", "Admin", "admin"),
    )
}


@dataclass(frozen=True)
class Frame:
    engine: Engine
    actor: Actor
    page: PageSpec

    @property
    def can_edit_something(self) -> bool:
        return self.actor.role in ("admin", "editor")


def may_open(actor: Actor, spec: PageSpec) -> bool:
    if spec.access == "read":
        return True
    if spec.access == "edit":
        return actor.role in ("admin", "editor")
    return actor.role == "admin"
