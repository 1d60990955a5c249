"""Metric sources, the fetching part: one adapter per kind behind `fetch_points`, the
connections they name, and the sync that turns fetched points into readings."""
