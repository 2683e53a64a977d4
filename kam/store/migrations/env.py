"""Alembic environment of the workspace schema: ``kam upgrade`` runs the migrations on the
workspace's own connection, in one transaction (see :mod:`kam.store.migrate`)."""

from __future__ import annotations

from alembic import context

from kam.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
