"""The deployment tests drive Debian's Chromium like the browser tests."""

from tests.browser.conftest import browser_type_launch_args  # noqa: F401 (a fixture)
