"""Injection payloads for the browser test, each carrying a distinctive marker (`X01`...) so
the test can tell that it is shown as text, and the workspace that stores them in every
kind of user text through the write path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine

from core.access import Actor
from core.changes import HypothesisChanges
from core.errors import ValidationError
from db import writes
from db.engine import write_session

# Any request to these hosts means a payload made the browser fetch something.
TRAP_HOSTS = ("127.0.0.1:9", "evil.example")
PWN = "window.__pwned"


@dataclass(frozen=True)
class Payload:
    marker: str
    kind: str  # the payload class, for the report
    text: str


def _p(number: int, kind: str, template: str) -> Payload:
    marker = f"X{number:02d}Q"
    return Payload(marker, kind, template.replace("{m}", marker).replace("{pwn}", PWN))


PAYLOADS: tuple[Payload, ...] = (
    _p(1, "script tag", "<script>{pwn}='{m}'</script>"),
    _p(2, "script tag, external source", "<SCRIPT SRC=http://127.0.0.1:9/{m}.js></SCRIPT>{m}"),
    _p(3, "event handler: img onerror", "<img src=x onerror=\"{pwn}='{m}'\">"),
    _p(4, "SVG onload", "<svg onload=\"{pwn}='{m}'\"></svg>{m}"),
    _p(5, "SVG with script", "<svg><script>{pwn}='{m}'</script></svg>"),
    _p(6, "iframe javascript: src", "<iframe src=\"javascript:parent.{pwn}='{m}'\"></iframe>{m}"),
    _p(7, "iframe srcdoc", "<iframe srcdoc=\"<script>parent.{pwn}='{m}'</script>\"></iframe>{m}"),
    _p(8, "javascript: link in markdown", "[click {m}](javascript:{pwn}='{m}')"),
    _p(9, "javascript: link, mixed case and spaces", "[{m}]( JaVaScRiPt:alert('{m}') )"),
    _p(10, "markdown image", "![{m}](http://127.0.0.1:9/{m}.png)"),
    _p(11, "markdown image breaking out of src", "![{m}](x\" onerror=\"{pwn}='{m}')"),
    _p(12, "HTML anchor with javascript:", "<a href=\"javascript:{pwn}='{m}'\">{m}</a>"),
    _p(13, "style tag", "<style>body{display:none !important}</style>{m}"),
    _p(
        14,
        "inline style with url()",
        '<div style="background:url(http://127.0.0.1:9/{m})">{m}</div>',
    ),
    _p(15, "data: URL link", "[{m}](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"),
    _p(
        16,
        "object with data: URL",
        "<object data=\"data:text/html,<script>alert('{m}')</script>\"></object>{m}",
    ),
    _p(17, "HTML entities", "&lt;script&gt;alert('{m}')&lt;/script&gt;"),
    _p(18, "numeric character references", "&#60;img src=x onerror=alert('{m}')&#62;"),
    _p(19, "unicode: fullwidth angle brackets", "＜script＞alert('{m}')＜/script＞"),
    _p(20, "unicode: zero-width space in scheme", "[{m}](java\u200bscript:alert(1))"),
    _p(21, "unicode: right-to-left override", "\u202e<script>alert('{m}')</script>\u202c"),
    _p(22, "details ontoggle", "<details open ontoggle=\"{pwn}='{m}'\">{m}</details>"),
    _p(23, "input autofocus onfocus", "<input autofocus onfocus=\"{pwn}='{m}'\">{m}"),
    _p(
        24,
        "mutation XSS (math/style nesting)",
        "<math><mtext><table><mglyph><style><img src=x onerror=\"{pwn}='{m}'\">{m}",
    ),
    _p(25, "template injection", "{{constructor.constructor('{pwn}=\"{m}\"')()}}"),
    _p(26, "Streamlit directives and icons", ":red[{m}] :material/warning: :rainbow-background[x]"),
    _p(27, "LaTeX href", "$\\href{javascript:alert(1)}{{m}}$"),
    _p(28, "attribute breakout", "\"><script>{pwn}='{m}'</script>"),
    _p(29, "JavaScript string breakout", "';{pwn}='{m}';//"),
    _p(30, "meta refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">{m}'),
    _p(31, "base href", '<base href="javascript:/">{m}'),
    _p(32, "stylesheet link", "<link rel=stylesheet href=http://127.0.0.1:9/{m}.css>{m}"),
    _p(
        33,
        "form with javascript: action",
        '<form action="javascript:alert(1)"><button>{m}</button></form>',
    ),
    _p(34, "video source onerror", "<video><source onerror=\"{pwn}='{m}'\"></video>{m}"),
    _p(35, "HTML block across lines", "<div>\n<img src=x onerror=\"{pwn}='{m}'\">\n</div>{m}"),
    _p(36, "vbscript: link", "[{m}](vbscript:msgbox(1))"),
    _p(37, "HTML comment hiding text", "<!-- {m} -->"),
    _p(38, "markdown autolink", "<http://127.0.0.1:9/{m}>"),
    _p(39, "reference-style link", "[{m}][r]\n\n[r]: javascript:alert(1)"),
    _p(40, "heading and emphasis", "# {m} **bold** _x_ `code`"),
    _p(45, "e-mail autolink (mailto:)", "write to {m}@evil.example"),
    _p(46, "www autolink", "see www.evil.example/{m}"),
)

# Short payloads for fields limited to 20 characters (metric unit).
SHORT_PAYLOADS: tuple[Payload, ...] = (
    _p(41, "short: bold tag in a unit", "<b>{m}</b>"),
    _p(42, "short: markdown link in a unit", "[{m}](javascript:1)"),
)

# Release links must be http(s) (the write path refuses other schemes); these try to break
# out of the link instead.
LINK_PAYLOADS: tuple[Payload, ...] = (
    _p(
        43,
        "http link breaking out of href",
        'https://evil.example/{m}"><img src=x onerror="{pwn}=\'{m}\'">',
    ),
    _p(
        44,
        "http link breaking out of markdown",
        "https://evil.example/{m})![i](http://127.0.0.1:9/{m}.png",
    ),
)
REFUSED_LINKS = (
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
)

ALL_PAYLOADS = PAYLOADS + SHORT_PAYLOADS + LINK_PAYLOADS
ADMIN = Actor.system("injection-test")


@dataclass(frozen=True)
class InjectionWorkspace:
    team_key: str
    pi_name: str
    outcome_keys: tuple[str, ...]
    # Which fields each payload went into, for the report.
    placement: dict[str, list[str]]


def build_injection_workspace(engine: Engine, *, today: dt.date) -> InjectionWorkspace:
    """One team whose every kind of user text holds payloads (written through db.writes,
    like the pages write them), in a PI running on `today`."""
    placement: dict[str, list[str]] = {}
    shown = list(PAYLOADS)  # each payload once into a field the pages show as text
    cycle = iter(PAYLOADS * 2)  # repeats for fields shown only on hover, or not at all

    def take(field: str, *, on_page: bool = True) -> str:
        payload = shown.pop(0) if on_page and shown else next(cycle)
        placement.setdefault(payload.marker, []).append(field)
        return payload.text

    with write_session(engine) as s:
        train = writes.create_train(s, actor=ADMIN, name="Payments")
        team = writes.create_team(
            s, actor=ADMIN, name=take("team name"), key="XSS", train_id=train.id
        )
        pi = writes.create_pi(
            s,
            actor=ADMIN,
            name="PI injection",
            train_id=train.id,
            start_date=today - dt.timedelta(days=40),
            end_date=today + dt.timedelta(days=30),
        )
        metrics = []
        for unit in SHORT_PAYLOADS:
            metrics.append(
                writes.create_metric(
                    s,
                    actor=ADMIN,
                    team_id=team.id,
                    name=take("metric name"),
                    unit=unit.text,
                    description=take("metric description", on_page=False),
                    leading=True,
                )
            )
            placement[unit.marker] = ["metric unit"]
        releases = []
        for index, link in enumerate(LINK_PAYLOADS):
            releases.append(
                writes.create_release(
                    s,
                    actor=ADMIN,
                    team_id=team.id,
                    name=take("release name"),
                    date=today - dt.timedelta(days=20 - index),
                    notes=take("release notes", on_page=False),
                    link=link.text,
                )
            )
            placement[link.marker] = ["release link"]
        for link in REFUSED_LINKS:
            try:
                writes.create_release(
                    s, actor=ADMIN, team_id=team.id, name="refused", date=today, link=link
                )
            except ValidationError:
                continue
            raise AssertionError(f"the write path stored a {link.split(':')[0]}: link")
        readings = [
            writes.ReadingEntry(metric.id, today - dt.timedelta(days=7 * week), 10.0 + week % 3, "")
            for metric in metrics
            for week in range(6)
        ]
        readings[0] = writes.ReadingEntry(
            readings[0].metric_id, readings[0].date, 12.0, take("reading note", on_page=False)
        )
        writes.record_readings(s, actor=ADMIN, entries=readings, source="cli")

        keys = []
        # Outcomes 1 and 2 have a target, a hypothesis and a check-in; the others have no
        # target, and there are as many as it takes to place every payload.
        number = 0
        while shown or number < 3:
            number += 1
            outcome = writes.create_outcome(
                s,
                actor=ADMIN,
                pi_id=pi.id,
                team_id=team.id,
                key=f"XSS-{number}",
                title=take("outcome title" if number <= 2 else "target-less outcome title"),
                why=take("outcome why"),
                owner=take("outcome owner"),
                planned_bv=5,
                status="active",
            )
            keys.append(outcome.key)
            if number > 2:
                continue
            metric = metrics[number - 1]
            writes.add_target(
                s,
                actor=ADMIN,
                outcome_id=outcome.id,
                metric_id=metric.id,
                baseline=10.0,
                baseline_date=today - dt.timedelta(days=35),
                target=14.0,
            )
            hypothesis = writes.add_hypothesis(
                s,
                actor=ADMIN,
                outcome_id=outcome.id,
                metric_id=metric.id,
                if_text=take("hypothesis if"),
                expect_text=take("hypothesis expect"),
                because_text=take("hypothesis because"),
                release_id=releases[number - 1].id,
            )
            hypothesis = writes.update_hypothesis(
                s,
                actor=ADMIN,
                hypothesis_id=hypothesis.id,
                expected_version=hypothesis.version,
                changes=HypothesisChanges(
                    learning=take("hypothesis learning"), decision="persevere"
                ),
            )
            writes.override_verdict(
                s,
                actor=ADMIN,
                hypothesis_id=hypothesis.id,
                expected_version=hypothesis.version,
                override="supported",
                reason=take("override reason"),
            )
            # A display name is user text too: it becomes the check-in's "by".
            by = Actor("injector", "admin", display_name=take("check-in by (display name)"))
            writes.add_checkin(
                s,
                actor=by,
                outcome_id=outcome.id,
                confidence=6,
                comment=take("check-in comment"),
                date=today - dt.timedelta(days=2),
            )
    return InjectionWorkspace(team.key, pi.name, tuple(keys), placement)
