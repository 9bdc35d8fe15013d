"""Apache Libcloud's CloudStack driver, unmodified, against a real server: locations, sizes, images,
networks, key pairs, and a node's whole life (create, list, reboot, stop, start, destroy) — the calls an
operator's Libcloud scripts make, with the fields the driver reads unconditionally.

The server is this module's own: Libcloud's list_sizes reads every offering's `cpunumber`, which a custom
offering (as other compute tests create) does not have, in CloudStack as here."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from libcloud.compute.base import NodeDriver
from libcloud.compute.providers import get_driver
from libcloud.compute.types import KeyPairDoesNotExistError, NodeState, Provider

from tests.integration.compute.conftest import ENV
from tests.integration.compute.env import Bed, build_bed, unique
from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


@pytest.fixture(scope="module")
def libcloud_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with start_server(tmp_path_factory.mktemp("libcloud-server"), env=ENV) as server:
        yield server


@pytest.fixture(scope="module")
def bed(libcloud_server: ServerProcess) -> Bed:
    return build_bed(libcloud_server, cs_client(libcloud_server, api_keys_of(libcloud_server)))


@pytest.fixture(scope="module")
def driver(libcloud_server: ServerProcess) -> NodeDriver:
    keys = api_keys_of(libcloud_server)
    cls = get_driver(Provider.CLOUDSTACK)
    made: NodeDriver = cls(key=keys["apikey"], secret=keys["secretkey"], url=libcloud_server.url, secure=False)
    # Jobs finish within seconds here: poll often rather than Libcloud's once a second.
    made.connection.poll_interval = 0.2
    return made


def _by_id(items: list[Any], wanted: str) -> Any:
    return next(item for item in items if item.id == wanted)


def test_locations_sizes_images_and_networks(driver: NodeDriver, bed: Bed) -> None:
    location = _by_id(driver.list_locations(), bed.zone["id"])
    assert location.name == bed.zone["name"]
    size = _by_id(driver.list_sizes(), bed.offering["id"])
    assert (size.ram, size.extra["cpu"]) == (512, 2)
    images = driver.list_images(location=location)
    image = _by_id(images, bed.template["id"])
    assert image.extra["hypervisor"] == "External" and image.extra["os"]
    network = _by_id(driver.ex_list_networks(), bed.network["id"])
    assert (network.name, network.zoneid) == (bed.network["name"], bed.zone["id"])


def test_key_pairs_are_created_imported_found_listed_and_deleted(driver: NodeDriver, tmp_path: Path) -> None:
    created = driver.create_key_pair(name=unique("lc"))
    assert created.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----") and created.fingerprint
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    imported = driver.import_key_pair_from_string(unique("lci"), (tmp_path / "id.pub").read_text())
    assert driver.get_key_pair(imported.name).fingerprint == imported.fingerprint
    assert {created.name, imported.name} <= {pair.name for pair in driver.list_key_pairs()}
    # Libcloud reports the deletion as `success == "true"`, the string CloudStack 3 sent; CloudStack 4 (and
    # Switchboard) answers a JSON true, so its return value is False on both: what counts is that it is gone.
    driver.delete_key_pair(created)
    with pytest.raises(KeyPairDoesNotExistError):
        driver.get_key_pair(created.name)
    driver.delete_key_pair(imported)


def test_a_node_is_created_listed_rebooted_stopped_started_and_destroyed(driver: NodeDriver, bed: Bed) -> None:
    location = _by_id(driver.list_locations(), bed.zone["id"])
    size = _by_id(driver.list_sizes(), bed.offering["id"])
    image = _by_id(driver.list_images(location=location), bed.template["id"])
    network = _by_id(driver.ex_list_networks(), bed.network["id"])
    pair = driver.create_key_pair(name=unique("lcn"))
    name = unique("lcnode")
    # Libcloud creates nodes stopped unless asked (ex_start_vm defaults to False).
    node = driver.create_node(name=name, size=size, image=image, location=location, networks=[network],
                              ex_keyname=pair.name, ex_userdata="#cloud-config\n", ex_start_vm=True)
    assert (node.name, node.state) == (name, NodeState.RUNNING)
    assert node.private_ips and node.extra["zone_id"] == bed.zone["id"]

    listed = _by_id(driver.list_nodes(), node.id)
    assert listed.state == NodeState.RUNNING and listed.extra["size_id"] == bed.offering["id"]
    assert listed.extra["ip_addresses"] == [] and listed.extra["port_forwarding_rules"] == []
    assert _by_id(driver.list_nodes(location=location), node.id).name == name
    assert driver.reboot_node(node) is True
    assert "reboot" in bed.actions_for(node.id)
    assert driver.ex_stop(node) == "Stopped"
    assert driver.ex_start(node) == "Running"
    create = next(c for c in bed.calls_for(node.id) if c["action"] == "create")
    assert create["payload"]["cloudstack.vm.details"]["details"]["SSH.KeyPairNames"] == pair.name
    assert driver.destroy_node(node, ex_expunge=True) is True
    assert node.id not in {n.id for n in driver.list_nodes()}
    driver.delete_key_pair(pair)
