"""Alembic environment: runs on the connection that `db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via db.migrate
    raise RuntimeError("Run migrations through `python manage.py init` (db.migrate).")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # Batch mode rebuilds tables on SQLite, which cannot ALTER most constraints.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
