"""Templates (External rules, template filters, details) and service offerings."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.infrastructure import ServiceOfferingDetail, TemplateDetail, Zone
from switchboard.errors import InvalidParameter, PermissionDenied
from switchboard.infra import details as detail_store
from switchboard.infra import guest_os, offerings, templates, zones
from switchboard.infra.common import Page
from switchboard.infra.extension_link import ExtensionRef
from switchboard.infra.templates import TemplateFilter, TemplateSpec

pytestmark = pytest.mark.database

EXTENSION = ExtensionRef(id=7, uuid=str(uuid.uuid4()), name="Fake")


def external(name: str, **kwargs: object) -> TemplateSpec:
    return TemplateSpec(name=name, url="http://dummy", extension=EXTENSION, **kwargs)  # type: ignore[arg-type]


def names(session: Session, caller: Caller, template_filter: TemplateFilter, **kwargs: object) -> list[str]:
    found, _ = templates.list_templates(session, caller, template_filter, Page(), **kwargs)  # type: ignore[arg-type]
    return [record.template.name for record in found]


def test_external_template_is_ready_at_once_with_its_details(session: Session, admin: Caller, zone: Zone) -> None:
    os_types, _ = guest_os.list_os_types(session, Page(keyword="Debian GNU/Linux 12"))
    template = templates.register_template(
        session, admin, [zone], external("tpl", guest_os=os_types[0][0], external_details={"template_id": "9000"},
                                         details={"firmware": "uefi"}))
    found, total = templates.list_templates(session, admin, TemplateFilter.SELF, Page(), uuid=template.uuid)
    record = found[0]
    assert total == 1 and record.placement.ready and record.placement.status == "Download Complete"
    assert (record.template.format, record.template.hypervisor_type, record.template.extension_id) == \
        ("EXTERNAL", "External", 7)
    assert record.guest_os is not None and record.guest_os.display_name == "Debian GNU/Linux 12 (64-bit)"
    assert templates.template_details(session, template.id) == {"template_id": "9000"}
    raw = detail_store.all_details(session, TemplateDetail, [template.id])[template.id]
    assert raw == {"External:template_id": "9000", "firmware": "uefi"}


@pytest.mark.parametrize(("spec", "parameter"), [
    (TemplateSpec(name="t", url="u", extension=EXTENSION, format="QCOW2"), "format"),
    (TemplateSpec(name="t", url="u"), "extensionid"),
    (TemplateSpec(name="t", url="u", hypervisor="KVM", format="QCOW2", extension=EXTENSION), "extensionid"),
    (TemplateSpec(name="t", url="u", hypervisor="KVM", format="QCOW2", external_details={"a": "b"}),
     "externaldetails"),
    (TemplateSpec(name="t", url="u", extension=EXTENSION, format="DOCX"), "format"),
])
def test_template_rules_name_the_parameter(session: Session, admin: Caller, zone: Zone, spec: TemplateSpec,
                                           parameter: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        templates.register_template(session, admin, [zone], spec)
    assert raised.value.parameter == parameter


def test_only_admins_feature_templates(session: Session, user: Caller, zone: Zone) -> None:
    with pytest.raises(InvalidParameter) as raised:
        templates.register_template(session, user, [zone], external("t", is_featured=True))
    assert raised.value.parameter == "isfeatured"


def test_template_filters(session: Session, admin: Caller, user: Caller, zone: Zone) -> None:
    templates.register_template(session, admin, [zone], external("featured", is_featured=True))
    templates.register_template(session, admin, [zone], external("public", is_public=True))
    templates.register_template(session, admin, [zone], external("admin-private"))
    templates.register_template(session, user, [zone], external("mine"))
    templates.register_template(session, user, [zone], TemplateSpec(name="mine-qcow", url="u", hypervisor="KVM",
                                                                     format="QCOW2"))
    assert names(session, user, TemplateFilter.FEATURED) == ["featured"]
    assert names(session, user, TemplateFilter.SELF) == ["mine", "mine-qcow"]
    assert names(session, user, TemplateFilter.SELF_EXECUTABLE) == ["mine"]
    assert names(session, user, TemplateFilter.EXECUTABLE) == ["featured", "public", "mine"]
    assert names(session, user, TemplateFilter.COMMUNITY) == ["public"]
    assert names(session, user, TemplateFilter.ALL) == ["featured", "public", "mine", "mine-qcow"]
    assert names(session, admin, TemplateFilter.ALL) == ["featured", "public", "admin-private", "mine", "mine-qcow"]
    assert names(session, admin, TemplateFilter.ALL, extension_id=7, hypervisor="external") == \
        ["featured", "public", "admin-private", "mine"]


def test_one_entry_per_zone_and_removal_per_zone(session: Session, admin: Caller, zone: Zone) -> None:
    second = zones.create_zone(session, zones.ZoneSpec(name="zone2"))
    template = templates.register_template(session, admin, [zone, second, zone], external("multi"))
    assert names(session, admin, TemplateFilter.SELF) == ["multi", "multi"]
    assert names(session, admin, TemplateFilter.SELF, zone_id=second.id) == ["multi"]
    templates.delete_template(session, template, zone=second)
    assert names(session, admin, TemplateFilter.SELF) == ["multi"] and template.removed is None
    templates.delete_template(session, template, zone=zone)
    assert names(session, admin, TemplateFilter.SELF) == [] and template.removed is not None


def test_owner_checks_and_updates(session: Session, admin: Caller, user: Caller, zone: Zone) -> None:
    template = templates.register_template(session, admin, [zone], external("t", external_details={"a": "1"},
                                                                             details={"x": "1"}))
    with pytest.raises(PermissionDenied):
        templates.check_owner(session, user, template)
    templates.check_owner(session, admin, template)
    templates.update_template(session, template, name="renamed", external_details={"b": "2"}, details={"y": "2"})
    raw = detail_store.all_details(session, TemplateDetail, [template.id])[template.id]
    assert template.name == "renamed" and raw == {"External:b": "2", "y": "2"}
    templates.update_template(session, template, clean_up_details=True)
    assert detail_store.all_details(session, TemplateDetail, [template.id])[template.id] == {"External:b": "2"}
    templates.update_permissions(session, admin, template, is_public=True, is_featured=True)
    assert names(session, user, TemplateFilter.FEATURED) == ["renamed"]


def test_service_offering_sizes_and_external_details(session: Session) -> None:
    offering = offerings.create_service_offering(session, offerings.OfferingSpec(
        name="tiny", cpu=2, speed=1000, memory=256, external_details={"cpu_type": "host"}, details={"k": "v"}))
    assert (offering.cpu, offering.speed, offering.ram_size) == (2, 1000, 256)
    assert offerings.offering_details(session, offering.id) == {"cpu_type": "host"}
    offerings.update_service_offering(session, offering, external_details={"cpu_type": "max"})
    raw = detail_store.all_details(session, ServiceOfferingDetail, [offering.id])[offering.id]
    assert raw == {"External:cpu_type": "max", "k": "v"}
    custom = offerings.create_service_offering(session, offerings.OfferingSpec(name="custom"))
    assert custom.cpu is None
    found, _ = offerings.list_service_offerings(session, Page())
    assert [o.name for o in found] == ["tiny", "custom", "Small Instance", "Medium Instance"]  # sort key, id
    offerings.delete_service_offering(session, offering)
    assert "tiny" not in [o.name for o in offerings.list_service_offerings(session, Page())[0]]


@pytest.mark.parametrize(("spec", "parameter"), [
    (offerings.OfferingSpec(name="x", cpu=1, speed=100), "memory"),
    (offerings.OfferingSpec(name="x", cpu=0, speed=100, memory=5), "cpunumber"),
    (offerings.OfferingSpec(name="x", storage_type="nvme"), "storagetype"),
])
def test_offering_rules_name_the_parameter(session: Session, spec: offerings.OfferingSpec, parameter: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        offerings.create_service_offering(session, spec)
    assert raised.value.parameter == parameter
