"""The config file (original keys + new ones) and the crash-safe state store."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from agentcore.harness import payload
from switchboard.agent.config import ConfigError, load_config
from switchboard.agent.model import PowerState
from switchboard.agent.payload import spec_from_payload
from switchboard.agent.state import Phase, StateStore, VmRecord

REPO = Path(__file__).resolve().parents[3]

ORIGINAL = {
    "bind_host": "0.0.0.0",
    "bind_port": 8443,
    "defaults": {
        "host": {"firecracker_bin": "/usr/local/bin/firecracker", "kernel_dir": "/var/lib/firecracker/kernel",
                 "image_dir": "/var/lib/firecracker/images", "conf_dir": "/var/lib/firecracker/conf",
                 "run_dir": "/var/run/firecracker", "log_dir": "/var/log/firecracker",
                 "payload_dir": "/var/lib/firecracker/payload"},
        "storage": {"driver": "lvmthin", "vg": "fcvg", "thinpool": "pool"},
        "net": {"driver": "linux-bridge-vlan", "host_bridge": "cloudbr1", "uplink": "eth1"},
        "console": {"bind_host": "0.0.0.0", "port_min": 5900},
    },
    "security": {"tls": {"enabled": True, "cert_file": "/etc/cloudstack/tls-cert/server.crt",
                         "key_file": "/etc/cloudstack/tls-cert/server.key",
                         "ca_file": "/etc/cloudstack/tls-cert/ca.crt", "client_auth": "none"}},
    "auth": {"enabled": True, "service": "firecracker-agent"},
    "ui": {"enabled": True, "session_timeout_seconds": 1800},
    "logging": {"level": "info"},
}


def test_the_original_agents_config_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "firecracker-agent.json"
    path.write_text(json.dumps(ORIGINAL))
    config = load_config(path)
    assert (config.bind_host, config.bind_port) == ("0.0.0.0", 8443)
    assert config.defaults.storage.driver == "lvm-thin"
    assert config.defaults.storage.options()["vg"] == "fcvg"
    assert config.defaults.net.driver == "linux-bridge"
    assert config.defaults.net.options() == {"host_bridge": "cloudbr1", "uplink": "eth1"}
    assert config.defaults.host.vmm_options()["firecracker_bin"] == "/usr/local/bin/firecracker"
    assert config.auth.service == "firecracker-agent"
    assert config.logging.level == "INFO"
    assert config.security.tls.min_version == "TLSv1.2"


def test_the_shipped_sample_config_loads_and_documents_every_key() -> None:
    sample = REPO / "deploy" / "firecracker-agent.json"
    config = load_config(sample)
    docs = (REPO / "docs" / "agent.md").read_text()
    sections = {"defaults.host": type(config.defaults.host), "auth": type(config.auth),
                "security.tls": type(config.security.tls), "logging": type(config.logging)}
    for prefix, model in sections.items():
        for key in model.model_fields:
            assert f"`{prefix}.{key}`" in docs or f"/ `{key}`" in docs, f"{prefix}.{key}"


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ('{"bind_port": "http"}', "bind_port"),
     ('{"security": {"tls": {"client_auth": "maybe"}}}', "client_auth"), ("[]", "JSON object")],
)
def test_bad_config_files_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json")


def test_records_survive_a_new_store_and_files_are_private(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    record = VmRecord(spec=spec_from_payload(payload("keep-1")), phase=Phase.READY, desired=PowerState.STOPPED)
    store.save(record)
    again = StateStore(tmp_path / "state").get("keep-1")
    assert again is not None
    assert (again.spec, again.phase, again.desired) == (record.spec, Phase.READY, PowerState.STOPPED)
    assert stat.S_IMODE((tmp_path / "state" / "vms").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state" / "vms" / "keep-1.json").stat().st_mode) == 0o600
    store.remove("keep-1")
    store.remove("keep-1")
    assert StateStore(tmp_path / "state").get("keep-1") is None


def test_a_torn_or_foreign_file_is_ignored_and_kept(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    store.save(VmRecord(spec=spec_from_payload(payload("good-1"))))
    vms = tmp_path / "state" / "vms"
    (vms / "torn-1.json").write_text('{"spec": {"na')
    (vms / "other-1.json").write_text((vms / "good-1.json").read_text())
    old_tmp = vms / ".good-1.json.1.2.tmp"
    old_tmp.write_text("partial")
    os.utime(old_tmp, (0, 0))
    reloaded = StateStore(tmp_path / "state")
    assert [r.name for r in reloaded.all()] == ["good-1"]
    assert (vms / "torn-1.json").exists() and not old_tmp.exists()
