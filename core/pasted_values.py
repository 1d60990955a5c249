"""A column of values pasted into Record at once, read as each metric's new value.

Teams keep this week's numbers in a spreadsheet; copying the column and pasting it once
is one step where typing each value is one per metric. Two shapes are read:

- **a column of values**: one value per line, in the order the form lists the metrics;
  an empty line (an empty cell) leaves that metric out;
- **names and values**: each line a metric's name, a Tab (two copied cells) or spaces,
  and its value, in any order.

A value stays the text pasted; the write path parses it and names a bad one by metric,
exactly as for a value typed into the metric's own box."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from core.errors import Problem

PASTE_FIELD = "Paste values"
# One value alone on a line: what a copied spreadsheet cell of a number looks like
# (a sign, digits with a decimal point or comma, an exponent, a trailing percent sign).
_LONE_VALUE = re.compile(r"[-+]?(\d[\d ,.]*|[.,]\d+)([eE][-+]?\d+)?\s*%?")


def read_pasted_values(
    text: str, metric_names: Sequence[str], aliases: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[Problem]]:
    """The value pasted for each metric named in `metric_names` (the form's order), and
    the lines that cannot be read, named by line. A line may also name a metric by one
    of its `aliases` (another name, such as "Cart abandonment (%)", to the metric's
    name). Nothing pasted gives nothing."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()  # a copied column ends with a line break
    if not lines:
        return {}, []
    named = [_named_cells(line) for line in lines]
    if any(cells is not None for cells in named):
        return _by_name(lines, named, metric_names, aliases or {})
    return _by_position(lines, metric_names)


def merge_pasted(
    typed: Mapping[str, str], pasted: Mapping[str, str]
) -> tuple[dict[str, str], list[Problem]]:
    """Each metric's value from its own box or from the paste. A metric given two
    different values is a problem (which one was meant is not for us to guess)."""
    merged = {name: value.strip() for name, value in typed.items()}
    problems: list[Problem] = []
    for name, value in pasted.items():
        own = merged.get(name, "")
        if own and own != value:
            problems.append(
                Problem(
                    f"{name}: value",
                    f"typed {own!r} and pasted {value!r}: clear one of them",
                )
            )
        else:
            merged[name] = value
    return merged, problems


def _named_cells(line: str) -> tuple[str, str] | None:
    """(name, value) when the line holds more than a lone value, else None."""
    cells = [cell.strip() for cell in line.split("\t")]
    filled = [cell for cell in cells if cell]
    if len(filled) >= 2:
        return filled[0], " ".join(filled[1:])
    stripped = line.strip()
    if " " not in stripped or _LONE_VALUE.fullmatch(stripped):
        return None  # one cell: a value (the write path names a bad one by its metric)
    name, _, value = stripped.rpartition(" ")
    return name.strip(), value


def _by_position(
    lines: Sequence[str], metric_names: Sequence[str]
) -> tuple[dict[str, str], list[Problem]]:
    if len(lines) > len(metric_names):
        return {}, [
            Problem(
                PASTE_FIELD,
                f"{len(lines)} lines for the team's {len(metric_names)} metrics: paste one "
                "value per metric in the order shown, or a metric name and its value on "
                "each line",
            )
        ]
    values = {
        name: line.strip() for name, line in zip(metric_names, lines, strict=False) if line.strip()
    }
    return values, []


def _by_name(
    lines: Sequence[str],
    named: Sequence[tuple[str, str] | None],
    metric_names: Sequence[str],
    aliases: Mapping[str, str],
) -> tuple[dict[str, str], list[Problem]]:
    known = {_folded(alias): name for alias, name in aliases.items()}
    known.update({_folded(name): name for name in metric_names})
    values: dict[str, str] = {}
    problems: list[Problem] = []
    for number, (line, cells) in enumerate(zip(lines, named, strict=True), start=1):
        where = f"{PASTE_FIELD}: line {number}"
        if not line.strip():
            continue
        if cells is None:
            problems.append(
                Problem(where, f"{line.strip()!r} names no metric: give its name before it")
            )
            continue
        name = known.get(_folded(cells[0]))
        if name is None:
            problems.append(Problem(where, f"{cells[0]!r} is not a metric of this team"))
        elif name in values:
            problems.append(Problem(where, f"{name} is pasted twice"))
        elif not cells[1]:
            problems.append(Problem(where, f"{name} has no value"))
        else:
            values[name] = cells[1]
    return (values, []) if not problems else ({}, problems)


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()
