"""The Alembic migrations create exactly the models' schema, on both engines."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text

from medsec.inventory import Store
from medsec.inventory.migrate import MIGRATIONS, alembic_config, head_revision
from medsec.inventory.models import Base
from medsec.model.errors import InventoryError


@contextmanager
def connection(url: str) -> Iterator[Connection]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def test_migrations_are_up_to_date_with_models(store_url: str) -> None:
    Store.open(store_url).close()
    with connection(store_url) as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_heads() == (head_revision(),)


def test_one_linear_history_without_model_imports() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert revision.path is not None
        lines = Path(revision.path).read_text(encoding="utf-8").splitlines()
        imports = [line for line in lines if line.startswith(("import ", "from "))]
        assert not [line for line in imports if "medsec" in line], (
            f"{revision.path}: revisions are frozen and must not import medsec"
        )
    assert (MIGRATIONS / "env.py").is_file()


def test_downgrade_to_base_and_back(store_url: str) -> None:
    Store.open(store_url).close()
    with connection(store_url) as conn:
        with conn.begin():
            command.downgrade(alembic_config(conn), "base")
        with conn.begin():
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        with conn.begin():
            command.upgrade(alembic_config(conn), "head")
        with conn.begin():
            assert set(inspect(conn).get_table_names()) == {
                "alembic_version",
                "captures",
                "flows",
                "edges",
                "hosts",
                "bindings",
            }


def test_newer_schema_is_refused(store_url: str) -> None:
    Store.open(store_url).close()
    with connection(store_url) as conn, conn.begin():
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(InventoryError, match="newer than this medsec"):
        Store.open(store_url)
    with connection(store_url) as conn:  # and left untouched
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"


def test_concurrent_first_opens_migrate_once(store_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_store() -> None:
        try:
            barrier.wait()
            Store.open(store_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with connection(store_url) as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
