"""One SQLAlchemy engine per database URL of the operational state (incidents, actions, users, notifications).

Every store opens the workspace's ``[state] url``. For a server database (PostgreSQL) an engine is a
connection pool: opening one per call would open new connections (and re-check the schema) on every request,
so engines are kept per URL and each store's tables are created once per engine. SQLite files get a fresh
engine each time (cheap, and a test or a demo may delete and recreate the file in one process).
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine, MetaData, create_engine

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_created: set[tuple[str, int]] = set()


def engine_for(url: str, metadata: MetaData) -> Engine:
    """An engine for ``url`` with ``metadata``'s tables created."""
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True)
        metadata.create_all(engine)
        return engine
    with _lock:
        cached = _engines.get(url)
        if cached is None:
            cached = _engines[url] = create_engine(url, future=True, pool_pre_ping=True)
        engine = cached
        if (url, id(metadata)) not in _created:
            metadata.create_all(engine)
            _created.add((url, id(metadata)))
        return engine
