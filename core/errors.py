"""The error types every layer raises and every page and command shows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One bad field or record: `where` names it (a field, "row 7", "outcomes[2].key")."""

    where: str
    message: str

    def __post_init__(self) -> None:
        # A message quotes the bad input, which may hold what no output can carry: a
        # lone surrogate (no UTF-8 encoder takes it: the command line's stderr and
        # Streamlit's messages would fail) or a NUL. Such characters are shown escaped.
        for name in ("where", "message"):
            text = getattr(self, name)
            if isinstance(text, str):
                object.__setattr__(self, name, _printable(text))

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _printable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


class ValidationError(ValueError):
    """Bad input. Lists every problem found; nothing was written."""

    def __init__(self, problems: list[Problem] | Problem | str, where: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(where or "input", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def fields(self) -> set[str]:
        return {p.where for p in self.problems}


class PermissionDenied(PermissionError):
    """The acting user's role may not make this change; nothing was written."""


class SessionEnded(PermissionDenied):
    """The signed-in session is no longer valid: its account's password, role or active
    flag changed, or a restore replaced it, since the sign-in. Nothing was written."""


class ConflictError(RuntimeError):
    """The record changed since the user opened it (optimistic lock); nothing was written.

    `changes` maps field name to (value the user started from, value now stored)."""

    def __init__(
        self,
        entity: str,
        changes: dict[str, tuple[object, object]] | None = None,
        by: str = "",
        at: str = "",
    ) -> None:
        self.entity = entity
        self.changes = changes or {}
        self.by = by
        self.at = at
        who = f" by {by}" if by else ""
        when = f" at {at}" if at else ""
        fields = ", ".join(sorted(self.changes)) or "it"
        super().__init__(
            f"This {entity} was changed{who}{when} since you opened it ({fields}). "
            "Your input is kept: review the current values and save again."
        )
