"""The agent's HTTP API (FastAPI): `create_app(AgentContext)` builds the ASGI application."""

from switchboard.agent.api.app import create_app
from switchboard.agent.api.deps import AgentContext

__all__ = ["AgentContext", "create_app"]
