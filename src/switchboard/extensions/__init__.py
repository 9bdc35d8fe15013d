"""The Extensions Framework: registry and paths, readiness, the runner, the payload builder."""
