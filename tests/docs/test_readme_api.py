"""The README's HTTP API session, run exactly as written (bash, curl, manage.py) against
`streamlit run app.py` on its own port and demo database, its output compared line by
line with the README's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.api.conftest import demo_database, start_server, stop_server
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARK = "#readme-session-end-of-command#"


def readme_session() -> tuple[list[str], list[str]]:
    """The session's commands (continuation lines joined) and the output it shows."""
    block = README.read_text().split("<!-- api-session:start -->", 1)[1]
    block = block.split("<!-- api-session:end -->", 1)[0]
    lines = re.search(r"```console\n(.*?)```", block, re.S).group(1).splitlines()  # type: ignore[union-attr]
    commands: list[str] = []
    output: list[str] = []
    continued = False
    for line in lines:
        if line.startswith("$ "):
            commands.append(line[2:])
        elif continued:
            commands[-1] += "\n" + line
        else:
            output.append(line)
        continued = line.endswith("\\")
    return commands, output


def test_the_readme_api_session_runs_as_written(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        skip_or_fail("curl is missing (apt-get install curl)")
    commands, expected = readme_session()
    url = demo_database(tmp_path / "outcomes.db")
    process, base_url = start_server(tmp_path, url)
    try:
        # One bash session, stderr merged as a terminal shows it; a marker after each
        # command, because curl's JSON ends without a newline (the prompt follows it).
        script = "set -e\nexec 2>&1\n" + "".join(f"{c}\nprintf '\\n{MARK}\\n'\n" for c in commands)
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=ROOT,
            env={**os.environ, "BOARD": base_url, "OUTCOMES_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        stop_server(process)
    assert result.returncode == 0, result.stdout
    shown = [
        line
        for chunk in result.stdout.split(f"\n{MARK}\n")
        for line in chunk.rstrip("\n").splitlines()
    ]
    assert shown == expected


@pytest.mark.parametrize("command", ["create-token", "revoke-token"])
def test_session_uses_the_documented_commands(command: str) -> None:
    commands, _ = readme_session()
    assert any(command in c for c in commands)
