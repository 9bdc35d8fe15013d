"""The ground floor: typed SQLAlchemy models, the engine, and Alembic migrations."""
