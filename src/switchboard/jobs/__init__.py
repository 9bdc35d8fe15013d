"""Async jobs: a queue in the database, workers inside each server, restart recovery. A mechanism only."""
