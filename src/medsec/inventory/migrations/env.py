"""Alembic environment of the inventory store.

medsec runs migrations programmatically (``medsec.inventory.migrate``): the caller opens a
connection, begins the transaction (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL) and passes the connection in ``config.attributes["connection"]``. There is no
alembic.ini and no logging configuration here: a library leaves logging to its application.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from medsec.inventory.models import Base, UtcDateTime

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "the medsec inventory migrations run only through medsec.inventory.migrate "
        "(pass an open connection in config.attributes['connection'])"
    )


def render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | bool:
    """Freeze ``UtcDateTime`` as ``sa.DateTime(timezone=True)``: revisions never import models."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
