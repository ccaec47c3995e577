"""Schema migrations, run programmatically (no alembic.ini at run time).

``upgrade(connection)`` brings a database to the newest schema inside the caller's
transaction; a database written by a newer medsec (an unknown revision) is refused with an
``InventoryError`` rather than touched.

Developers add a revision after changing ``models.py``::

    python -m medsec.inventory.migrate revision "add devices table"

which autogenerates ``migrations/versions/NNNN_<slug>.py`` against a scratch SQLite database
brought to head; review and adjust the file (PostgreSQL and SQLite must both work).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from medsec.model.errors import InventoryError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the migrations shipped in this package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest schema revision this medsec knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at (empty for a new database)."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


def upgrade(connection: Connection) -> bool:
    """Migrate to head inside the caller's transaction; True when something was done."""
    cfg = alembic_config(connection)
    script = ScriptDirectory.from_config(cfg)
    current = current_revisions(connection)
    head = script.get_current_head()
    if current == (head,):
        return False
    for rev in current:
        try:
            known = script.get_revision(rev)
        except CommandError:
            known = None
        if known is None:
            raise InventoryError(
                f"the database schema (revision {rev}) is newer than this medsec "
                f"(newest {head}); upgrade medsec"
            )
    command.upgrade(cfg, "head")
    return True


def _revision(message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.db")
        try:
            with engine.begin() as conn:
                upgrade(conn)
            with engine.begin() as conn:
                cfg = alembic_config(conn)
                number = len(list(ScriptDirectory.from_config(cfg).walk_revisions())) + 1
                command.revision(cfg, message=message, autogenerate=True, rev_id=f"{number:04d}")
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m medsec.inventory.migrate")
    sub = parser.add_subparsers(dest="command", required=True)
    rev = sub.add_parser("revision", help="autogenerate a revision from models.py")
    rev.add_argument("message")
    args = parser.parse_args(argv)
    if args.command == "revision":
        _revision(args.message)


if __name__ == "__main__":
    main()
