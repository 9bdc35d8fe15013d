"""Prometheus metrics for `/metrics`: operation counts and latencies, VMs by power state, auth failures.

Each agent process builds its own registry (no module-level globals), so tests can run several agents in
one process. VM gauges are computed at scrape time from the service, which is cheap by the VMM contract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from switchboard.agent.model import PowerState

__all__ = ["CONTENT_TYPE", "AgentMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _VmCollector(Collector):
    def __init__(self, states: Callable[[], dict[str, PowerState]], extra: Callable[[], dict[str, float]]):
        self._states = states
        self._extra = extra

    def collect(self) -> Iterator[Metric]:
        counts = dict.fromkeys(PowerState, 0)
        for state in self._states().values():
            counts[state] += 1
        vms = GaugeMetricFamily("switchboard_agent_vms", "VMs known to this agent by power state", labels=["state"])
        for state, count in counts.items():
            vms.add_metric([state.value], count)
        yield vms
        for name, value in self._extra().items():
            yield GaugeMetricFamily(f"switchboard_agent_{name}", name.replace("_", " "), value=value)


class AgentMetrics:
    """The agent's metrics. `observe_operation` is the service's OperationObserver."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._ops = Counter(
            "switchboard_agent_operations",
            "VM operations by kind and result",
            ["operation", "result"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "switchboard_agent_operation_seconds",
            "Duration of VM operations in seconds",
            ["operation"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self._steps = Histogram(
            "switchboard_agent_step_seconds",
            "Time spent in one step: storage (provision), network (plug), vmm_launch, state (record write)",
            ["step"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self._auth_failures = Counter(
            "switchboard_agent_auth_failures",
            "Refused requests by reason (credentials, group, throttled, client_cert)",
            ["reason"],
            registry=self.registry,
        )

    def observe_operation(self, operation: str, seconds: float, ok: bool) -> None:
        self._ops.labels(operation, "success" if ok else "error").inc()
        self._latency.labels(operation).observe(seconds)

    def observe_step(self, step: str, seconds: float) -> None:
        self._steps.labels(step).observe(seconds)

    def auth_failure(self, reason: str) -> None:
        self._auth_failures.labels(reason).inc()

    def watch_vms(
        self, states: Callable[[], dict[str, PowerState]], extra: Callable[[], dict[str, float]]
    ) -> None:
        """Export VM counts from `states()` and the gauges `extra()` returns (name -> value) at scrape."""
        self.registry.register(_VmCollector(states, extra))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
