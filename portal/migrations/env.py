"""Alembic environment: runs on the connection portal.db.upgrade() hands over."""

from alembic import context

import portal.libraries.models  # noqa: F401  (registers the tables)
from portal.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    from portal.config import load_settings
    from portal.db import make_engine

    connection = make_engine(load_settings().database_url).connect()

context.configure(
    connection=connection, target_metadata=Base.metadata, render_as_batch=connection.dialect.name == "sqlite"
)
with context.begin_transaction():
    context.run_migrations()
