"""Words for the one-sentence reasons beside every health and verdict (numbers, percents
and days are formatted by core/format.py)."""

from __future__ import annotations


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
