"""Run Outcome Board as several `streamlit run` processes on one PostgreSQL behind nginx:
`start`, `add PORT`, `status`, `stop` (README, "Running on several processes").

Settings come from the environment, so the same lines work on a laptop, a VM and in the
test (tests/deploy/test_several_processes.py):
  OUTCOMES_DATABASE_URL           the PostgreSQL database (migrated by `manage.py init` first)
  STREAMLIT_SERVER_COOKIE_SECRET  one secret for every process: Streamlit signs its XSRF
                                  cookie with it, so a browser moved to another process
                                  (a process added or gone) can still upload
  OUTCOMES_APP_PORTS              the processes' ports, "8501 8502" (loopback only)
  OUTCOMES_LISTEN                 where nginx listens, "127.0.0.1:8080"
  OUTCOMES_RUN_DIR                pid files, logs and the rendered nginx.conf (deploy/run)
  OUTCOMES_NGINX                  the nginx binary (/usr/sbin/nginx)
Only the standard library: it runs before anything else is known to work."""

from __future__ import annotations

import argparse
import os
import signal
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
HEALTH_TIMEOUT_S = 90


def _setting(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if not value:
        sys.exit(f"{name} is not set (see the README, 'Running on several processes').")
    return value


def run_dir() -> Path:
    path = Path(_setting("OUTCOMES_RUN_DIR", str(ROOT / "deploy" / "run"))).resolve()
    (path / "temp").mkdir(parents=True, exist_ok=True)
    return path


def app_ports() -> list[int]:
    return [int(port) for port in _setting("OUTCOMES_APP_PORTS", "8501 8502").split()]


def listen() -> tuple[str, int]:
    host, _, port = _setting("OUTCOMES_LISTEN", "127.0.0.1:8080").rpartition(":")
    return host or "127.0.0.1", int(port)


def nginx_binary() -> str:
    return _setting("OUTCOMES_NGINX", "/usr/sbin/nginx")


def render_nginx_conf(ports: list[int], host: str, port: int) -> str:
    servers = "\n".join(
        # Passive health check: three failures take a process out for 10 s.
        f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;"
        for p in ports
    )
    return string.Template(TEMPLATE.read_text("utf-8")).safe_substitute(
        UPSTREAM_SERVERS=servers, LISTEN_ADDRESS=host, LISTEN_PORT=str(port)
    )


def healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def wait_healthy(base_url: str, pid: int | None = None) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while not healthy(base_url):
        if pid is not None and not _alive(pid):
            sys.exit(f"The process for {base_url} exited: see its log in {run_dir()}.")
        if time.monotonic() > deadline:
            sys.exit(f"{base_url}/_stcore/health did not answer within {HEALTH_TIMEOUT_S} s.")
        time.sleep(0.3)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # our own child that exited is a zombie until reaped
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == 0


def start_app(port: int) -> int:
    """One `streamlit run` on a loopback port, detached, its pid in app-PORT.pid. It does
    not migrate: `manage.py init` did (a process finding an older schema would migrate it
    under the lock, or refuse to serve pages)."""
    _setting("OUTCOMES_DATABASE_URL")
    _setting("STREAMLIT_SERVER_COOKIE_SECRET")
    folder = run_dir()
    with (folder / f"app-{port}.log").open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives this command; stopped by `stop`
        )
    (folder / f"app-{port}.pid").write_text(str(process.pid))
    wait_healthy(f"http://127.0.0.1:{port}", process.pid)
    print(f"app process on 127.0.0.1:{port} (pid {process.pid}) is healthy")
    return process.pid


def write_nginx_conf(ports: list[int]) -> Path:
    host, port = listen()
    path = run_dir() / "nginx.conf"
    path.write_text(render_nginx_conf(ports, host, port), "utf-8")
    return path


def nginx(*args: str) -> None:
    folder = run_dir()
    subprocess.run(
        [nginx_binary(), "-p", str(folder), "-c", "nginx.conf", "-e", "nginx-error.log", *args],
        check=True,
    )


def running_ports() -> list[int]:
    ports = []
    for pid_file in sorted(run_dir().glob("app-*.pid")):
        if _alive(int(pid_file.read_text())):
            ports.append(int(pid_file.stem.removeprefix("app-")))
    return ports


def start() -> None:
    ports = app_ports()
    for port in ports:
        start_app(port)
    write_nginx_conf(ports)
    nginx("-t", "-q")
    nginx()
    host, port = listen()
    wait_healthy(f"http://{host}:{port}")
    print(f"nginx on {host}:{port} in front of {len(ports)} processes")


def add(port: int) -> None:
    """Start one more process, then reload nginx with it (graceful: open websockets stay
    on their old process; about 1/n of the browsers move to the new one on their next
    connection, and start a new session there)."""
    start_app(port)
    ports = sorted({*running_ports(), port})
    write_nginx_conf(ports)
    nginx("-t", "-q")
    nginx("-s", "reload")
    print(f"nginx now balances {len(ports)} processes: {' '.join(map(str, ports))}")


def stop() -> None:
    folder = run_dir()
    stopped = []
    if (folder / "nginx.pid").exists():
        stopped.append("nginx")
        nginx("-s", "quit")
        deadline = time.monotonic() + 10
        while (folder / "nginx.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    for pid_file in sorted(folder.glob("app-*.pid")):
        pid = int(pid_file.read_text())
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
            stopped.append(pid_file.stem)
        pid_file.unlink()
    # Say what was found: a wrong OUTCOMES_RUN_DIR must not look like a clean stop.
    print(f"stopped: {', '.join(stopped)}" if stopped else f"nothing was running in {folder}")


def status() -> None:
    host, port = listen()
    for app_port in running_ports():
        state = "healthy" if healthy(f"http://127.0.0.1:{app_port}") else "NOT ANSWERING"
        print(f"app 127.0.0.1:{app_port}: {state}")
    print(f"nginx {host}:{port}: {'healthy' if healthy(f'http://{host}:{port}') else 'DOWN'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("start", help="start every process of OUTCOMES_APP_PORTS, then nginx")
    adding = commands.add_parser("add", help="start one more process and reload nginx")
    adding.add_argument("port", type=int)
    commands.add_parser("status", help="/_stcore/health of each process and of nginx")
    commands.add_parser("stop", help="stop nginx, then every process")
    arguments = parser.parse_args()
    if arguments.command == "start":
        start()
    elif arguments.command == "add":
        add(arguments.port)
    elif arguments.command == "status":
        status()
    else:
        stop()


if __name__ == "__main__":
    main()
