"""`manage.py digest`: the Markdown on standard output, and with --send a chat webhook
(a local HTTP receiver started by the test) and e-mail (a local aiosmtpd server), read
back as they arrived. A failed send exits 1 naming the destination, never the URL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from core.access import Actor
from db.digest import set_digest_destination
from db.engine import make_engine, write_session
from db.migrate import upgrade
from db.models import Team
from manage import cli
from seed.demo import load_demo
from tests.app_server import free_port
from tests.conftest import DEMO_TODAY

TODAY = DEMO_TODAY.isoformat()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('digest') / 'outcomes.db'}"
    engine = make_engine(url)
    upgrade(engine)
    load_demo(engine, today=DEMO_TODAY)
    engine.dispose()
    return url


@pytest.fixture
def database(demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A copy of the demo database per test (destinations differ between tests)."""
    source = Path(demo_url.removeprefix("sqlite:///"))
    copy = tmp_path / "outcomes.db"
    copy.write_bytes(source.read_bytes())
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", url)
    monkeypatch.setenv("OUTCOMES_SECRETS_FILE", str(tmp_path / "secrets.toml"))
    engine = make_engine(url)
    yield engine
    engine.dispose()


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def add_destination(engine: Engine, kind: str, target: str, team: str = "CHK") -> None:
    with write_session(engine) as s:
        team_id = s.query(Team.id).filter(Team.key == team).scalar()
        set_digest_destination(s, actor=Actor.system(), team_id=team_id, kind=kind, target=target)


class Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(self.rfile.read(length))
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Hook", (Receiver,), {"bodies": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/secret-path", handler
    server.shutdown()
    server.server_close()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def write_secrets(path: Path, text: str) -> None:
    path.write_text(text)


def test_digest_prints_markdown_of_what_changed(database: Engine) -> None:
    result = run("digest", "--team", "CHK", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Checkout digest: 2026-10-26 to 2026-11-02")
    assert "## New readings" in result.output
    assert " -> " in result.output


def test_send_posts_slack_json_to_the_webhook_named_in_secrets(
    database: Engine, webhook: tuple[str, type[Receiver]], tmp_path: Path
) -> None:
    url, receiver = webhook
    write_secrets(tmp_path / "secrets.toml", f'[digest.webhooks]\nteam-chat = "{url}"\n')
    add_destination(database, "webhook", "team-chat")
    result = run("digest", "--team", "CHK", "--today", TODAY, "--send")
    assert result.exit_code == 0, result.output
    (body,) = receiver.bodies
    assert json.loads(body)["text"].startswith("# Checkout digest")
    assert "Sent to webhook 'team-chat'" in result.output


def test_send_mails_the_addresses_over_smtp(
    database: Engine, smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, inbox = smtp
    write_secrets(
        tmp_path / "secrets.toml",
        f'[digest.smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n'
        'sender = "board@example.com"\n',
    )
    add_destination(database, "email", "po@example.com, team@example.com")
    result = run("digest", "--team", "CHK", "--today", TODAY, "--send")
    assert result.exit_code == 0, result.output
    ((recipients, content),) = inbox.messages
    assert recipients == ["po@example.com", "team@example.com"]
    message = message_from_bytes(content)
    assert message["Subject"] == "Checkout digest: 2026-10-26 to 2026-11-02"
    assert "## New readings" in message.get_payload()


def test_a_failed_send_exits_1_naming_the_destination_never_the_url(
    database: Engine, webhook: tuple[str, type[Receiver]], smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    url, receiver = webhook
    receiver.status = 500
    port, inbox = smtp
    write_secrets(
        tmp_path / "secrets.toml",
        f'[digest.webhooks]\nteam-chat = "{url}"\n'
        f'[digest.smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n',
    )
    add_destination(database, "webhook", "team-chat")
    add_destination(database, "email", "po@example.com")
    result = run("digest", "--team", "CHK", "--today", TODAY, "--send")
    assert result.exit_code == 1
    assert "Not sent to webhook 'team-chat': the chat service answered HTTP 500" in result.output
    assert "secret-path" not in result.output and "127.0.0.1" not in result.output
    assert len(inbox.messages) == 1  # the other destination still got it


def test_a_webhook_missing_from_secrets_is_named(database: Engine) -> None:
    add_destination(database, "webhook", "nowhere")
    result = run("digest", "--team", "CHK", "--today", TODAY, "--send")
    assert result.exit_code == 1
    assert "Not sent to webhook 'nowhere'" in result.output


def test_dry_run_lists_destinations_and_sends_nothing(
    database: Engine, webhook: tuple[str, type[Receiver]], tmp_path: Path
) -> None:
    url, receiver = webhook
    write_secrets(tmp_path / "secrets.toml", f'[digest.webhooks]\nteam-chat = "{url}"\n')
    add_destination(database, "webhook", "team-chat")
    result = run("digest", "--team", "CHK", "--today", TODAY, "--send", "--dry-run")
    assert result.exit_code == 0
    assert "Would send to webhook team-chat." in result.output
    assert receiver.bodies == []


def test_send_without_destinations_is_refused(database: Engine) -> None:
    result = run("digest", "--train", "Payments", "--today", TODAY, "--send")
    assert result.exit_code == 1
    assert "No digest destinations are configured for Payments train" in result.output


def test_exactly_one_of_team_and_train(database: Engine) -> None:
    assert run("digest", "--today", TODAY).exit_code == 1
    assert run("digest", "--team", "CHK", "--train", "Payments", "--today", TODAY).exit_code == 1
