"""Pin what the infrastructure modules offer other areas: a change here is a change of contract."""

from __future__ import annotations

import importlib

import pytest

EXPECTED = {
    "events": ["ALERT_TYPES", "Actor", "ActorIds", "archive_alerts", "archive_events", "list_alerts", "list_events",
               "record_alert", "record_event"],
    "extension_link": ["LINKER_SERVICE", "NO_EXTENSIONS", "ExtensionLinker", "ExtensionRef", "linker_from"],
    "nics": ["NicView", "allocate_nic", "attach_to_instance", "get_nic", "nic_views", "normalise_mac", "random_mac",
             "release_instance_nics", "release_nic", "update_addresses", "view_of"],
    "usage": ["NO_CHECKS", "USAGE_SERVICE", "UsageCheck", "UsageChecks"],
    "clusters": ["ARCHES", "CLUSTER_TYPES", "ClusterRecord", "EXTERNAL", "HYPERVISORS", "add_cluster",
                 "delete_cluster", "get_cluster", "hypervisor_name", "hypervisors_in_zone", "link_extension",
                 "list_clusters", "resource_map_details", "unlink_extension", "update_cluster"],
    "hosts": ["HostRecord", "add_host", "delete_host", "external_guid", "get_host", "host_details", "list_hosts",
              "set_maintenance", "set_status", "update_host"],
    "templates": ["FORMATS", "READY_STATUS", "TemplateFilter", "TemplateRecord", "TemplateSpec", "check_owner",
                  "delete_template", "get_template", "list_templates", "register_template", "template_details",
                  "update_permissions", "update_template"],
    "offerings": ["OfferingSpec", "create_service_offering", "delete_service_offering", "get_network_offering",
                  "get_service_offering", "list_network_offerings", "list_service_offerings", "offering_details",
                  "update_service_offering"],
    "networks": ["DEFAULT_GUEST_CIDR", "DEFAULT_NETWORK_RATE", "DYNAMIC_VLANS", "NetworkRecord", "NetworkSpec",
                 "UNTAGGED", "broadcast_uri", "check_access", "check_owner", "create_network", "delete_network",
                 "get_network", "list_networks", "network_record", "parse_vlan", "update_network"],
}


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_public_names_are_pinned(module: str) -> None:
    loaded = importlib.import_module(f"switchboard.infra.{module}")
    assert sorted(loaded.__all__) == sorted(EXPECTED[module])
    assert all(hasattr(loaded, name) for name in loaded.__all__)
