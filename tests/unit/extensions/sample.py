"""The setup of the protocol notes' §2.4 example, as payload-model values (shared by the payload tests)."""

from __future__ import annotations

from switchboard.extensions.payload_model import (
    CallerInfo,
    ExtensionInfo,
    HostInfo,
    InstanceInfo,
    NicInfo,
    OfferingInfo,
    ResourceMapInfo,
    TemplateInfo,
)

VM_UUID = "6ae77659-2f5f-492c-b616-6d78ef134dcb"
NIC_UUID = "388e2dad-d1f1-4381-8e32-4878f6d29c41"
NET_UUID = "3cd4f011-88e1-4b01-875f-ce318c3678a5"

EXTENSION = ExtensionInfo(
    name="Proxmox",
    details={
        "url": "10.0.0.5",
        "user": "root@pam",
        "token": "cloudstack",
        "secret": "0b6c-secret",
        "orchestratorrequirespreparevm": "true",
        "internalnote": "hidden",
    },
    hidden_details=frozenset({"internalnote"}),
)
RESOURCE_MAP = ResourceMapInfo(details={"zone_tag": "east"})
HOST = HostInfo(
    name="pve1",
    details={
        "External:node": "pve1",
        "External:network_bridge": "vmbr1",
        "External:verify_tls_certificate": "false",
        "guid": "External:abc",
    },
)
NIC = NicInfo(
    device_id=0,
    nic_uuid=NIC_UUID,
    network_uuid=NET_UUID,
    network_id=204,
    default_nic=True,
    network_rate_mbps=200,
    details={"PromiscuousMode": "false"},
    mtu=1500,
    network_segment_name="D1-A2-Z1-S204",
    ip="10.1.1.245",
    netmask="255.255.255.0",
    gateway="10.1.1.1",
    mac="02:01:00:cc:00:01",
    dns1="10.0.32.1",
    dns2="8.8.8.8",
    broadcast_type="Vlan",
    broadcast_uri="vlan://1577",
    isolation_uri="vlan://1577",
)
SECOND_NIC = NicInfo(
    device_id=1,
    nic_uuid="5a0c0e0e-0000-4000-8000-000000000002",
    network_uuid="7b7b7b7b-0000-4000-8000-000000000002",
    network_id=205,
    network_segment_name="D1-A2-Z1-S205",
    broadcast_uri="vlan://1600",
    mac="02:01:00:cc:00:02",
)
INSTANCE = InstanceInfo(
    id=12,
    uuid=VM_UUID,
    account_id=2,
    cpus=1,
    speed=500,
    ram_mb=512,
    state="Starting",
    vnc_password="s3cr3tVNC",
    details={
        "deployvm": "true",
        "External:template_type": "template",  # copied from the template at creation
        "External:template_id": "9000",
        "External:vm_name": "web01",
        "External:cpu_type": "deploytime",
    },
    nics=(SECOND_NIC, NIC),
    template=TemplateInfo(
        details={
            "External:template_type": "template",
            "External:template_id": "9000",
            "External:disk": "from-template",
            "other": "x",
        }
    ),
    offering=OfferingInfo(
        details={"External:cpu_type": "host", "External:disk": "from-offering", "External:only_offering": "o"}
    ),
)
CALLER = CallerInfo(id="u-1", name="admin", type="ADMIN", role_id="r-1", role_name="Root Admin", role_type="Admin")
