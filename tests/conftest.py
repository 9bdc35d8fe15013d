"""Shared fixtures (in tests/support/fixtures.py). Set SWITCHBOARD_TEST_DATABASE_URL (a PostgreSQL server
URL ending in a database that may be used as a template, e.g.
postgresql+psycopg://postgres@127.0.0.1:15432/postgres) to run the database tests against PostgreSQL: each
test then gets a fresh database on that server."""

pytest_plugins = ["tests.support.fixtures"]
