"""The deployment recipe's pieces without a browser: the rendered nginx config is valid
for Debian's nginx, sticky by cookie, health-checked; the README documents every setting
deploy/several.py reads."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from deploy.several import render_nginx_conf
from tests.conftest import skip_or_fail
from tests.deploy.test_several_processes import NGINX, README

SEVERAL = Path(__file__).resolve().parents[2] / "deploy" / "several.py"


def test_the_config_balances_every_port_by_the_cookie() -> None:
    conf = render_nginx_conf([8501, 8502, 8503], "127.0.0.1", 8080)

    assert re.findall(r"server 127\.0\.0\.1:(\d+) max_fails", conf) == ["8501", "8502", "8503"]
    assert "hash $outcomes_node consistent;" in conf
    assert "listen 127.0.0.1:8080;" in conf
    assert "${" not in conf  # every placeholder filled, nginx's own $variables kept


def test_nginx_accepts_the_rendered_config(tmp_path: Path) -> None:
    if not NGINX.exists():
        skip_or_fail(f"{NGINX} is missing (apt-get install nginx)")
    (tmp_path / "temp").mkdir()
    (tmp_path / "nginx.conf").write_text(render_nginx_conf([8501, 8502], "127.0.0.1", 8080))
    result = subprocess.run(
        [str(NGINX), "-t", "-p", str(tmp_path), "-c", "nginx.conf", "-e", "nginx-error.log"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_the_readme_names_every_setting_the_script_reads() -> None:
    read = set(re.findall(r'_setting\("([A-Z_]+)"', SEVERAL.read_text("utf-8")))
    section = README.read_text("utf-8").split("## Running on several processes")[1]
    exported = set(re.findall(r"export ([A-Z_]+)=", section))
    assert read and read - {"OUTCOMES_NGINX"} <= exported  # its default is Debian's path
