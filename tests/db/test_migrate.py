"""Migrations: applied at start, idempotent, refuse a database newer than the code."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text

from db.engine import make_engine
from db.migrate import SchemaTooNewError, current_revision, ensure_schema, head_revision, upgrade
from db.models import Base


def test_upgrade_creates_every_table_of_the_models(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    result = upgrade(engine)
    assert result.before is None and result.after == head_revision()
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    again = upgrade(engine)
    assert not again.changed
    assert current_revision(engine) == head_revision()


def test_ensure_schema_runs_once_per_process(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'once.db'}")
    assert ensure_schema(engine) is not None
    assert ensure_schema(engine) is None


def test_database_newer_than_the_code_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    with pytest.raises(SchemaTooNewError, match="newer version"):
        upgrade(engine)
