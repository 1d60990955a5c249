"""The results table: figures with their floor, ratio and aim, the machine they ran on,
printed as text and written as Markdown (bench/RESULTS.md)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sqlite3
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

RATIO = "ratio"  # met when ours / floor <= aim
COUNT = "count"  # met when ours <= aim (errors: the aim is zero)
COLUMNS = ("figure", "ours", "floor", "ratio", "aim", "met")
# A second floor, for figures that have one (browser: the one-line page beside the
# same-elements page): its columns appear only when some figure has it.
SECOND_COLUMNS = ("one-line floor", "ratio to it")
NOTES_HEADING = "## Notes"  # kept when RESULTS.md is rewritten: the closing notes live there


@dataclass(frozen=True)
class Figure:
    """One row: what we measured (`ours`) against its floor measured in the same run."""

    name: str
    ours: float
    floor: float | None
    unit: str  # "s", "MB" or "" (a count)
    aim: float | None = None  # None: reported, no aim
    kind: str = RATIO
    second_floor: float | None = None  # reported beside, never judged

    @property
    def second_ratio(self) -> float | None:
        if self.second_floor is None or self.second_floor <= 0:
            return None
        return self.ours / self.second_floor

    @property
    def ratio(self) -> float | None:
        if self.kind != RATIO or self.floor is None or self.floor <= 0:
            return None
        return self.ours / self.floor

    @property
    def met(self) -> bool | None:
        if self.aim is None:
            return None
        if self.kind == COUNT:
            return self.ours <= self.aim
        ratio = self.ratio
        return None if ratio is None else ratio <= self.aim

    def cells(self, *, second: bool = False) -> tuple[str, ...]:
        ratio = self.ratio
        extra: tuple[str, ...] = ()
        if second:
            other = self.second_ratio
            extra = (
                "—" if self.second_floor is None else format_value(self.second_floor, self.unit),
                "—" if other is None else f"{other:.2f}x",
            )
        return (
            self.name,
            format_value(self.ours, self.unit),
            "—" if self.floor is None else format_value(self.floor, self.unit),
            "—" if ratio is None else f"{ratio:.2f}x",
            aim_text(self.aim, self.kind),
            {True: "yes", False: "NO", None: "—"}[self.met],
            *extra,
        )


def format_value(value: float, unit: str) -> str:
    """Seconds as ms below one second, megabytes whole, counts as integers."""
    if unit == "s":
        if value < 0.1:
            return f"{value * 1000:.1f} ms"
        if value < 1:
            return f"{value * 1000:.0f} ms"
        return f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g}"


def aim_text(aim: float | None, kind: str) -> str:
    if aim is None:
        return "—"
    if kind == COUNT:
        return f"≤ {aim:g}"
    return f"≤ {aim:g}x"


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` (0..1) percentile with linear interpolation between order statistics."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# ---------------------------------------------------------------- the machine


@dataclass
class Machine:
    """Where and when the figures were measured, and with what."""

    command: str
    date: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    )
    cpu: str = field(default_factory=lambda: cpu_model())
    cpus: int = field(default_factory=lambda: os.cpu_count() or 0)
    memory_gb: float = field(default_factory=lambda: memory_total_gb())
    load_start: tuple[float, float, float] = field(default_factory=os.getloadavg)
    load_end: tuple[float, float, float] | None = None
    versions: dict[str, str] = field(default_factory=lambda: software_versions())
    workspace: str = ""

    def finish(self) -> None:
        self.load_end = os.getloadavg()

    def lines(self) -> list[str]:
        def load(values: tuple[float, float, float] | None) -> str:
            return "—" if values is None else " / ".join(f"{v:.2f}" for v in values)

        return [
            f"date: {self.date}",
            f"command: {self.command}",
            f"CPU: {self.cpu} × {self.cpus}",
            f"memory: {self.memory_gb:.1f} GB",
            f"load average (1/5/15 min): {load(self.load_start)} at start, "
            f"{load(self.load_end)} at end",
            "versions: " + ", ".join(f"{name} {v}" for name, v in self.versions.items()),
            *([f"workspace: {self.workspace}"] if self.workspace else []),
        ]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_total_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def software_versions() -> dict[str, str]:
    versions = {"Python": platform.python_version()}
    for package in ("streamlit", "sqlalchemy", "pandas", "altair", "playwright"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    versions["SQLite"] = sqlite3.sqlite_version
    return versions


# ---------------------------------------------------------------- rendering


def _columns(figures: Sequence[Figure]) -> tuple[bool, tuple[str, ...]]:
    second = any(figure.second_floor is not None for figure in figures)
    return second, COLUMNS + (SECOND_COLUMNS if second else ())


def render_text(figures: Sequence[Figure], machine: Machine) -> str:
    second, columns = _columns(figures)
    rows = [columns, *(figure.cells(second=second) for figure in figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]

    def line(row: Sequence[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return " | ".join([first, *rest])

    rule = "-+-".join("-" * width for width in widths)
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:]), "", *machine.lines()])


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(
    figures: Sequence[Figure], machine: Machine, *, how_measured: Sequence[str] = ()
) -> str:
    """The whole RESULTS.md body: the table, the machine, how it was measured."""
    second, columns = _columns(figures)
    header = "| " + " | ".join(columns) + " |"
    align = "|" + "|".join([":---", *["---:"] * (len(COLUMNS) - 2), ":---:"])
    align += "".join("|---:" for _ in columns[len(COLUMNS) :]) + "|"
    body = [
        "| " + " | ".join(_markdown_cell(cell) for cell in figure.cells(second=second)) + " |"
        for figure in figures
    ]
    met = [f.met for f in figures if f.met is not None]
    summary = f"{sum(met)} of {len(met)} aims met." if met else "No aims measured."
    parts = [
        "# Benchmark results",
        "",
        f"Latest run: {machine.date}, `{machine.command}`. {summary}",
        "Every ratio is ours / floor, both measured in this run; times are medians unless "
        "the figure says p95.",
        "",
        header,
        align,
        *body,
        "",
        "## Machine",
        "",
        *(f"- {line}" for line in machine.lines()),
    ]
    if how_measured:
        parts += ["", "## How measured", "", *(f"- {line}" for line in how_measured)]
    return "\n".join(parts) + "\n"


def write_results(path: Path, markdown: str) -> None:
    """Write the results, keeping the existing file's notes section (the closing notes
    on missed aims) below the new table."""
    notes = ""
    if path.exists():
        old = path.read_text()
        at = old.find(NOTES_HEADING)
        if at >= 0:
            notes = old[at:]
    path.write_text(markdown + ("\n" + notes if notes else ""))
