"""A column of values pasted into Record: read by position or by name, every line that
cannot be read named, and a value given twice differently refused."""

from __future__ import annotations

import pytest

from core.pasted_values import PASTE_FIELD, merge_pasted, read_pasted_values

METRICS = ["Average order value", "Cart abandonment", "Checkout conversion"]


def test_a_copied_column_gives_the_metrics_their_values_in_order() -> None:
    values, problems = read_pasted_values("41.5\n64.3\n2.71\n", METRICS)

    assert problems == []
    assert values == {
        "Average order value": "41.5",
        "Cart abandonment": "64.3",
        "Checkout conversion": "2.71",
    }


def test_an_empty_cell_leaves_its_metric_out_and_a_short_column_the_last_ones() -> None:
    values, problems = read_pasted_values("41.5\r\n\r\n2.71", METRICS)
    assert problems == []
    assert values == {"Average order value": "41.5", "Checkout conversion": "2.71"}

    values, problems = read_pasted_values("41,5", METRICS)
    assert problems == [] and values == {"Average order value": "41,5"}


def test_nothing_pasted_gives_nothing() -> None:
    assert read_pasted_values("", METRICS) == ({}, [])
    assert read_pasted_values("\n \n", METRICS) == ({}, [])


def test_more_lines_than_metrics_is_refused_whole() -> None:
    values, problems = read_pasted_values("1\n2\n3\n4", METRICS)

    assert values == {}
    assert [p.where for p in problems] == [PASTE_FIELD]
    assert "4 lines for the team's 3 metrics" in problems[0].message


def test_two_copied_cells_or_a_name_and_a_value_are_read_by_name_in_any_order() -> None:
    pasted = "checkout conversion\t2.71\nAverage order value 41.5\n\nCart abandonment (%)\t64.3\n"

    values, problems = read_pasted_values(
        pasted, METRICS, {"Cart abandonment (%)": "Cart abandonment"}
    )

    assert problems == []
    assert values == {
        "Checkout conversion": "2.71",
        "Average order value": "41.5",
        "Cart abandonment": "64.3",
    }


@pytest.mark.parametrize(
    ("pasted", "where", "message"),
    [
        ("Revenue\t12", "line 1", "'Revenue' is not a metric of this team"),
        (
            "Cart abandonment 64.3\n2.71",
            "line 2",
            "'2.71' names no metric: give its name before it",
        ),
        ("Cart abandonment\t1\nCART ABANDONMENT\t2", "line 2", "Cart abandonment is pasted twice"),
    ],
)
def test_a_line_that_names_no_metric_is_named_and_nothing_is_read(
    pasted: str, where: str, message: str
) -> None:
    values, problems = read_pasted_values(pasted, METRICS)

    assert values == {}
    assert [(p.where, p.message) for p in problems] == [(f"{PASTE_FIELD}: {where}", message)]


def test_a_value_in_its_box_and_pasted_must_agree() -> None:
    typed = {"Average order value": "41.5", "Cart abandonment": "", "Checkout conversion": "3"}
    pasted = {
        "Average order value": "41.5",
        "Cart abandonment": "64.3",
        "Checkout conversion": "2.71",
    }

    merged, problems = merge_pasted(typed, pasted)

    assert [p.where for p in problems] == ["Checkout conversion: value"]
    assert "typed '3' and pasted '2.71'" in problems[0].message
    assert merged["Average order value"] == "41.5" and merged["Cart abandonment"] == "64.3"
