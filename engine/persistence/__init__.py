"""The database: engines and sessions (:mod:`.db`) and the Alembic migrations
(:mod:`.migrate`, ``migrations/``). The tables themselves are :mod:`engine.models`."""
