"""Command line for automation and administration: `python manage.py --help`."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from core.access import Actor
from core.errors import ConflictError, PermissionDenied, Problem, ValidationError
from db.engine import database_url, make_engine, read_session, write_session
from db.files import write_private
from db.migrate import SchemaTooNewError, ensure_schema, upgrade

F = TypeVar("F", bound=Callable[..., Any])
ACTOR_NAME = "cli"
ISO_DATE = click.DateTime(formats=["%Y-%m-%d"])

# Exit statuses: 0 done; 1 refused (bad input, not allowed, conflict: nothing written);
# 2 an unexpected error (also click's own status for a wrong command line).
REFUSED = 1
FAILED = 2


def _actor() -> Actor:
    return Actor.system(ACTOR_NAME)


def _shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def _database(*, migrate: bool = True) -> Iterator[Engine]:
    """The engine of OUTCOMES_DATABASE_URL, migrated to the current schema first."""
    engine = make_engine(database_url())
    try:
        if migrate:
            ensure_schema(engine)
        yield engine
    finally:
        engine.dispose()


def _fail(status: int, *lines: str) -> None:
    for line in lines:
        click.echo(line, err=True)
    raise click.exceptions.Exit(status)


def _problems(problems: list[Problem]) -> None:
    _fail(REFUSED, *(str(p) for p in problems), "Nothing was written.")


def handles_errors(command: F) -> F:
    """Turn the errors every layer raises into a message and an exit status. Each
    command writes in one transaction, so on any of them nothing was written."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ValidationError as error:
            _problems(error.problems)
        except (PermissionDenied, ConflictError, SchemaTooNewError) as error:
            _fail(REFUSED, f"Refused: {error}", "Nothing was written.")
        except OSError as error:  # a missing folder, no permission, a full disk
            _fail(FAILED, file_error_message(error), "Nothing was written.")
        except Exception as error:  # one line, not a traceback, for a cron log
            message = " ".join(str(error).split())[:500]
            _fail(FAILED, f"Error: {type(error).__name__}: {message}", "Nothing was written.")

    return wrapper  # type: ignore[return-value]


_FILE_ERRORS = {
    FileNotFoundError: "the file or its folder does not exist",
    PermissionError: "permission denied",
    IsADirectoryError: "it is a folder, not a file",
    NotADirectoryError: "a part of the path is not a folder",
    FileExistsError: "it already exists",
}


def file_error_message(error: OSError) -> str:
    """One line naming the path and the reason, never a bare exception name."""
    reason = next(
        (text for kind, text in _FILE_ERRORS.items() if isinstance(error, kind)),
        error.strerror or type(error).__name__,
    )
    path = error.filename
    if path is None:
        return f"Error: {reason}."
    folder = Path(str(path)).parent
    if isinstance(error, FileNotFoundError) and not folder.exists():
        reason = f"the folder “{folder}” does not exist: create it first"
    return f"Error: cannot use “{path}”: {reason}."


def _read_input(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    path = Path(file)
    if not path.is_file():
        raise ValidationError(Problem("FILE", f"“{file}” does not exist or is not a file"))
    return path.read_bytes()


def _write_output(file: str, data: bytes) -> None:
    if file == "-":
        stream = sys.stdout.buffer
        stream.write(data)
        stream.flush()
    else:
        write_private(Path(file), data)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Each command has its own --help.",
)
def cli() -> None:
    """Outcome Board command line.

    \b
    Every command acts as a local administrator (user "cli", role admin): whoever can run
    it can change everything, as with any access to the database file or server. The
    database is the one OUTCOMES_DATABASE_URL names (default: data/outcomes.db beside the
    app); commands apply pending schema migrations first.

    \b
    Exit status: 0 done; 1 refused (each bad row or field is listed, nothing was
    written); 2 an unexpected error or a wrong command line.
    """


@cli.command()
@handles_errors
def init() -> None:
    """Create the database or migrate it to the current schema.

    Harmless to run again. An existing SQLite file is copied to backups/ beside it before
    a migration changes it."""
    with _database(migrate=False) as engine:
        result = upgrade(engine)
        click.echo(f"Database: {_shown_url(database_url())}")
        if result.changed:
            click.echo(f"Schema: {result.before or 'empty'} -> {result.after}")
        else:
            click.echo(f"Schema: already at {result.after}, nothing to do")
        if result.backup is not None:
            click.echo(f"Copy of the database before migrating: {result.backup}")


@cli.command()
@click.option(
    "--today",
    type=ISO_DATE,
    default=None,
    help="Place the demo around this date (YYYY-MM-DD) instead of today.",
)
@handles_errors
def demo(today: dt.datetime | None) -> None:
    """Load the demo workspace into an empty database.

    Deterministic, and placed relative to today's date so that one PI is always current.
    Refused when the database already has teams."""
    from seed.demo import load_demo  # the seed is large; only this command needs it

    with _database() as engine:
        summary = load_demo(engine, today=today.date() if today else None)
    click.echo(
        f"Loaded the demo: train {summary.train}, {summary.teams} teams, PIs "
        f"{', '.join(summary.pis)} (current: {summary.current_pi}), {summary.metrics} metrics, "
        f"{summary.readings} readings, {summary.outcomes} outcomes."
    )


@cli.command()
@click.option("--team", required=True, help="Team key or name.")
@click.option("--metric", required=True, help="Metric name within the team.")
@click.option("--value", required=True, help="The reading, a finite number (2.5 or 2,5).")
@click.option(
    "--date",
    "day",
    type=ISO_DATE,
    default=None,
    help="Date of the reading (YYYY-MM-DD, default today).",
)
@click.option("--note", default="", help="A note shown with the reading.")
@click.option(
    "--replace",
    is_flag=True,
    help="Overwrite a different value already stored for this metric and date.",
)
@handles_errors
def record(
    team: str, metric: str, value: str, day: dt.datetime | None, note: str, replace: bool
) -> None:
    """Record one reading of a metric.

    A reading identical to the stored one is skipped; a different value for a stored
    date is refused unless --replace is given."""
    from core.reading_files import ReadingRow, parse_value
    from db.readings import import_readings

    number, why = parse_value(value, decimal_comma=True)
    if number is None:
        raise ValidationError(Problem("--value", why or "is not a number"))
    date = day.date() if day else dt.date.today()
    row = ReadingRow(row=1, team=team, metric=metric, date=date, value=number, note=note)
    with _database() as engine, write_session(engine) as session:
        result = import_readings(session, actor=_actor(), rows=[row], replace=replace, source="cli")
    if result.added:
        click.echo(f"Recorded {metric} = {value} on {date.isoformat()} for {team}.")
    elif result.replaced:
        click.echo(f"Replaced {metric} on {date.isoformat()} for {team} with {value}.")
    else:
        click.echo(f"{metric} on {date.isoformat()} already has this value: nothing to do.")


@cli.command("import-readings")
@click.argument("file")
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@click.option(
    "--replace",
    is_flag=True,
    help="Overwrite stored readings that have a different value on the same date.",
)
@handles_errors
def import_readings_command(file: str, dry_run: bool, replace: bool) -> None:
    """Import readings from a CSV or XLSX file (`-` reads stdin as CSV).

    Columns team, metric, date, value and optional note. The whole file is checked
    first: any bad row rejects it, with every problem listed by row number, and nothing
    is written. Rows identical to stored readings are skipped."""
    from db.readings import import_reading_file

    data = _read_input(file)
    name = "stdin.csv" if file == "-" else Path(file).name
    with _database() as engine, write_session(engine) as session:
        result = import_reading_file(
            session,
            actor=_actor(),
            data=data,
            filename=name,
            replace=replace,
            source="import",
            dry_run=dry_run,
        )
    if result.problems:
        _problems(result.problems)
    verb = "Would add" if dry_run else "Added"
    click.echo(
        f"{verb} {result.added}, {'would replace' if dry_run else 'replaced'} "
        f"{result.replaced}, skipped {result.skipped} identical readings."
    )


@cli.command("export-readings")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx"]),
    required=True,
    help="File type.",
)
@click.option("--out", required=True, help="File to write (`-` for stdout).")
@click.option("--team", default=None, help="Only this team's readings (team key).")
@handles_errors
def export_readings_command(file_format: str, out: str, team: str | None) -> None:
    """Export readings in the columns import-readings reads."""
    from core.reading_files import readings_to_csv, readings_to_xlsx
    from db.readings import export_readings

    with _database() as engine, read_session(engine) as session:
        frame = export_readings(session, team_key=team)
    data = readings_to_csv(frame) if file_format == "csv" else readings_to_xlsx(frame)
    _write_output(out, data)
    if out != "-":
        click.echo(f"Wrote {len(frame)} readings to {out}.")


@cli.command("import-workspace")
@click.argument("file")
@handles_errors
def import_workspace_command(file: str) -> None:
    """Import a workspace JSON document ("outcome-board/1"; `-` reads stdin).

    The whole document is checked first; any bad record rejects it, each one named, and
    nothing is written. Into a database that already has data, records are matched by
    their natural keys: missing ones are created, existing ones updated to match."""
    from db.workspace import import_workspace, parse_document

    document = parse_document(_read_input(file), where="FILE")
    with _database() as engine, write_session(engine) as session:
        summary = import_workspace(session, actor=_actor(), document=document)
    click.echo(f"Imported the workspace: {summary.describe()}.")


@cli.command("export-workspace")
@click.argument("file")
@handles_errors
def export_workspace_command(file: str) -> None:
    """Export the whole workspace as a JSON document (`-` for stdout).

    Export, import into an empty database and export again give the same document."""
    from db.workspace import export_workspace

    with _database() as engine, read_session(engine) as session:
        document = export_workspace(session)
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    _write_output(file, text.encode("utf-8"))
    if file != "-":
        click.echo(f"Wrote the workspace to {file}.")


@cli.command("backup")
@click.argument("file")
@handles_errors
def backup_command(file: str) -> None:
    """Back up the database to FILE, safely while the app runs.

    SQLite: a copy of the database file (online backup API). PostgreSQL, or FILE ending
    in .json: a JSON document of the workspace and the accounts (password hashes, no audit
    log); for a full PostgreSQL server backup use pg_dump."""
    from db.backup import backup

    with _database() as engine:
        result = backup(engine, Path(file))
    kind = "SQLite database file" if result.kind == "sqlite" else "JSON: workspace and accounts"
    click.echo(f"Backup written to {result.path} ({kind}).")


@cli.command("restore")
@click.argument("file")
@handles_errors
def restore_command(file: str) -> None:
    """Replace the whole database with a backup made by `backup`.

    The file is checked first (it must open, pass SQLite's integrity check, and come from
    this or an older version of Outcome Board); otherwise nothing changes. On SQLite a
    copy of the replaced database is kept in backups/ beside it. A SQLite backup also
    restores into PostgreSQL."""
    from db.backup import restore

    with _database() as engine:
        result = restore(engine, Path(file), actor=_actor())
    click.echo(f"{result.summary}.")
    click.echo(f"Schema: {result.revision}")
    if result.safety_copy is not None:
        click.echo(f"The replaced database was kept at {result.safety_copy}")


@cli.command("create-user")
@click.argument("username")
@click.option(
    "--role", type=click.Choice(["admin", "editor", "viewer"]), required=True, help="Role."
)
@click.option(
    "--team",
    "teams",
    multiple=True,
    help="Key of a team an editor may change (repeat for several).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password as one line from stdin.")
@click.option(
    "--no-password",
    is_flag=True,
    help="No local password: the account signs in through single sign-on (needs --email).",
)
@click.option("--display-name", default="", help="Name shown in the app.")
@click.option("--email", default=None, help="E-mail address (matches single sign-on).")
@handles_errors
def create_user_command(
    username: str,
    role: str,
    teams: tuple[str, ...],
    password_stdin: bool,
    no_password: bool,
    display_name: str,
    email: str | None,
) -> None:
    """Create an account. Without --password-stdin the password is asked twice, hidden.

    The password is stored only as an argon2 hash."""
    from db.users import create_user

    if no_password and password_stdin:
        raise ValidationError(Problem("--no-password", "cannot be used with --password-stdin"))
    if no_password and not email:
        raise ValidationError(Problem("--email", "is needed for an account without a password"))
    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValidationError(Problem("--password-stdin", "no password on standard input"))
    elif not no_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _database() as engine, write_session(engine) as session:
        user = create_user(
            session,
            actor=_actor(),
            username=username,
            role=role,
            team_keys=teams,
            password=password,
            display_name=display_name,
            email=email,
        )
        name, stored_role = user.username, user.role
    click.echo(f"Created user {name} ({stored_role}).")


# ---------------------------------------------------------------- report


@cli.command("report")
@click.option("--pi", "pi_name", required=True, help='The PI\'s name, e.g. "PI 26.4".')
@click.option(
    "--as-of",
    "as_of",
    type=ISO_DATE,
    default=None,
    help="Show the PI as it stood on this date (YYYY-MM-DD); default today.",
)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["json", "md"]),
    default="json",
    show_default=True,
    help="json: the Report JSON of PRODUCT.md; md: the same content as Markdown for a wiki.",
)
@handles_errors
def report_command(pi_name: str, as_of: dt.datetime | None, report_format: str) -> None:
    """Print the PI report: health, progress, forecasts, verdicts and predictability."""
    from db.report import report_json, report_markdown_text

    day = as_of.date() if as_of else dt.date.today()
    with _database() as engine, read_session(engine) as session:
        if report_format == "json":
            click.echo(json.dumps(report_json(session, pi_name=pi_name, as_of=day), indent=2))
        else:
            click.echo(report_markdown_text(session, pi_name=pi_name, as_of=day))


# ---------------------------------------------------------------- API tokens


@cli.command("create-token")
@click.argument("name")
@click.option("--team", "team_key", required=True, help="Key of the team the token acts for.")
@click.option(
    "--scope",
    type=click.Choice(["readings:write", "report:read"]),
    required=True,
    help="readings:write: post the team's readings; report:read: read the PI report.",
)
@handles_errors
def create_token_command(name: str, team_key: str, scope: str) -> None:
    """Create an API token for one team and print it once.

    Only a salted hash is stored: copy the token now, it cannot be shown again. Use it as
    `Authorization: Bearer TOKEN` on the HTTP API (/api/v1/)."""
    from db.tokens import create_token

    with _database() as engine, write_session(engine) as session:
        info, secret = create_token(
            session, actor=_actor(), name=name, team_key=team_key, scope=scope
        )
    # The token alone on standard output, so `TOKEN=$(python manage.py create-token ...)`
    # works; the explanation on standard error.
    click.echo(secret)
    click.echo(
        f"Created token '{info.name}' for team {info.team_key} ({info.scope}). "
        "It is shown only this once.",
        err=True,
    )


@cli.command("revoke-token")
@click.argument("name")
@handles_errors
def revoke_token_command(name: str) -> None:
    """Revoke an API token: every later request with it is refused (401)."""
    from db.tokens import revoke_token

    with _database() as engine, write_session(engine) as session:
        info = revoke_token(session, actor=_actor(), name=name)
    click.echo(f"Revoked token '{info.name}' of team {info.team_key}.")


# ---------------------------------------------------------------- digest


@cli.command("digest")
@click.option("--team", "team_key", default=None, help="Key of the team (or use --train).")
@click.option("--train", "train_name", default=None, help="Name of the train (or use --team).")
@click.option(
    "--since",
    type=ISO_DATE,
    default=None,
    help="What changed after this date (YYYY-MM-DD); default 7 days ago.",
)
@click.option(
    "--today",
    type=ISO_DATE,
    default=None,
    help="Make the digest as it would have been on this date (YYYY-MM-DD); default today.",
)
@click.option("--send", is_flag=True, help="Also send it to the configured destinations.")
@click.option("--dry-run", is_flag=True, help="With --send: list where it would go, send nothing.")
@handles_errors
def digest_command(
    team_key: str | None,
    train_name: str | None,
    since: dt.datetime | None,
    today: dt.datetime | None,
    send: bool,
    dry_run: bool,
) -> None:
    """Print a team's or a train's digest as Markdown, and with --send deliver it.

    What changed since the date (new readings with old -> new, health and verdict
    changes), stale metrics, hypotheses whose window closed without a decision, and the
    current iteration goal. Destinations (a chat webhook named in secrets, e-mail over
    SMTP) are configured by admins on the Admin page. A failed send exits 1 naming the
    destination; the others are still sent."""
    from core.digest import digest_markdown, digest_title
    from db.digest import build_digest, destinations_for, digest_scope
    from notify.send import deliver

    with _database() as engine, read_session(engine) as session:
        digest = build_digest(
            session,
            team_key=team_key,
            train_name=train_name,
            since=since.date() if since else None,
            today=today.date() if today else None,
        )
        destinations = destinations_for(
            session, digest_scope(session, team_key=team_key, train_name=train_name)
        )
    text = digest_markdown(digest)
    click.echo(text, nl=False)
    if not send:
        return
    if not destinations:
        _fail(REFUSED, f"No digest destinations are configured for {digest.scope}.")
    if dry_run:
        for destination in destinations:
            kind = "webhook" if destination.kind == "webhook" else "e-mail to"
            click.echo(f"Would send to {kind} {destination.target}.", err=True)
        return
    failed = []
    for destination in destinations:
        result = deliver(
            destination.kind, destination.target, subject=digest_title(digest), text=text
        )
        if result.ok:
            click.echo(f"Sent to {result.destination}.", err=True)
        else:
            failed.append(f"Not sent to {result.destination}: {result.error}")
    if failed:
        _fail(REFUSED, *failed)


@cli.command("sync")
@click.option("--team", default=None, help="Only this team's metrics (team key or name).")
@click.option("--metric", default=None, help="Only the metric with this name.")
@click.option(
    "--since",
    type=ISO_DATE,
    default=None,
    help="Only points on or after this date (YYYY-MM-DD); Prometheus: default 90 days back.",
)
@click.option("--dry-run", is_flag=True, help="Fetch and check every source; write nothing.")
@click.option(
    "--replace",
    is_flag=True,
    help="Overwrite stored readings that have a different value on the same date.",
)
@handles_errors
def sync_command(
    team: str | None, metric: str | None, since: dt.datetime | None, dry_run: bool, replace: bool
) -> None:
    """Pull every metric that has a source (for cron).

    Each metric is written in its own transaction as an import of its points (identical
    readings skipped, a different stored value refused unless --replace). A source that
    fails writes nothing for its metric, keeps the error, and the others go on. Exit
    status 1 when any source failed, each one listed; a second run writes nothing."""
    from sources.sync import FAILED, sync_sources

    with _database() as engine:
        results = sync_sources(
            engine,
            actor=Actor.system("sync"),
            team_key=team,
            metric_name=metric,
            since=since.date() if since else None,
            dry_run=dry_run,
            replace=replace,
        )
    if not results:
        click.echo("No metric with a source matches: nothing to sync.")
        return
    would = "would add" if dry_run else "added"
    for result in results:
        name = f"{result.team} / {result.metric} ({result.kind})"
        if result.outcome == FAILED:
            click.echo(f"{name}: failed: {result.error}")
        else:
            click.echo(
                f"{name}: {result.outcome}, {would} {result.added}, replaced {result.replaced}, "
                f"skipped {result.skipped}"
            )
    failed = [r for r in results if r.outcome == FAILED]
    click.echo(
        f"{len(results)} sources, {len(failed)} failed, "
        f"{sum(r.added for r in results)} readings {would}."
        + (" Dry run: nothing was written." if dry_run else "")
    )
    if failed:
        _fail(
            REFUSED,
            *(f"{r.team} / {r.metric}: {r.error}" for r in failed),
            f"{len(failed)} of {len(results)} sources failed; their metrics got nothing.",
        )


if __name__ == "__main__":
    sys.exit(cli())
