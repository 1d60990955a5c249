"""Who may change what: the permission rules, as pure functions over an `Actor`."""

from __future__ import annotations

from dataclasses import dataclass, field

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Actor:
    """The user a write is made for. `team_ids` are the teams an editor may change."""

    username: str
    role: str  # admin, editor, viewer, or anonymous
    team_ids: frozenset[int] = field(default_factory=frozenset)
    display_name: str = ""
    # The account's session version when this actor signed in (db.users), checked on
    # every write and page run; None for actors that no sign-in made (the command line,
    # the demo loader, tests), which have no session to end.
    session_version: int | None = None

    @classmethod
    def system(cls, name: str = "cli") -> Actor:
        """The command line and the demo loader act as a local administrator."""
        return cls(username=name, role="admin")

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(username=ANONYMOUS, role=ANONYMOUS)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def signed_in(self) -> bool:
        return self.role != ANONYMOUS


def can_edit_team(actor: Actor, team_id: int | None) -> bool:
    """Editors change their own teams' data; admins everything. Train-level records
    (no team) are admin-only."""
    if actor.role == "admin":
        return True
    if actor.role != "editor" or team_id is None:
        return False
    return team_id in actor.team_ids


def can_administer(actor: Actor) -> bool:
    """Trains, teams, PIs, users, restore, workspace import: admins only."""
    return actor.role == "admin"


def can_score_business_value(actor: Actor) -> bool:
    """Actual business value is scored by business owners at PI end: admins only, so a
    team cannot grade its own work."""
    return actor.role == "admin"
