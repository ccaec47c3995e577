"""Database URLs: what a user types (nothing, a file path, a URL) -> a SQLAlchemy URL."""

from __future__ import annotations

import os

DEFAULT_SQLITE_FILE = "medsec.db"
"""The database file, in the working directory, when nothing is configured."""


def database_url(value: str | None) -> str:
    """The SQLAlchemy URL for a configured database.

    ``None`` or an empty string -> the SQLite file ``./medsec.db``; a plain path ->
    ``sqlite:///<absolute path>``; ``:memory:`` -> an in-memory SQLite database; a URL
    (anything with ``://``) passes through, except that ``postgres://`` and ``postgresql://``
    gain the psycopg 3 driver (``postgresql+psycopg://``), the only PostgreSQL driver used.
    """
    text = (value or "").strip()
    if "://" in text:
        scheme, rest = text.split("://", 1)
        if scheme.lower() in ("postgres", "postgresql"):
            return f"postgresql+psycopg://{rest}"
        return text
    if text == ":memory:":
        return "sqlite://"
    path = os.path.abspath(os.path.expanduser(text or DEFAULT_SQLITE_FILE))
    return f"sqlite:///{path}"
