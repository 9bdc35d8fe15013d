"""What deployVirtualMachine checks before it queues a job, and the sizes and flags it copies: unknown
template, zone and offering (in that order, each naming its parameter), a private template of another
account, custom offerings sized by details, and an instance's fields taken from template and offering."""

from __future__ import annotations

import uuid

import pytest
from cs import CloudStack, CloudStackApiException

from tests.integration.compute.env import Bed, ok, unique
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def _refused(client: CloudStack, **params: str) -> dict[str, str]:
    with pytest.raises(CloudStackApiException) as raised:
        client.deployVirtualMachine(**params)
    error: dict[str, str] = raised.value.error
    return error


def test_unknown_template_zone_and_offering_are_refused_in_order_naming_the_parameter(bed: Bed) -> None:
    missing = str(uuid.uuid4())
    good = {"zoneid": bed.zone["id"], "templateid": bed.template["id"], "serviceofferingid": bed.offering["id"]}
    # The template is looked up first, then the zone, then the offering: unknown later ones do not matter.
    cases = (
        ("templateid", "template", {"templateid": missing, "zoneid": missing, "serviceofferingid": missing}),
        ("zoneid", "zone", {"zoneid": missing, "serviceofferingid": missing}),
        ("serviceofferingid", "service offering", {"serviceofferingid": missing}),
    )
    for parameter, label, unknown in cases:
        error = _refused(bed.admin, **{**good, **unknown})
        assert error["errorcode"] == 431, error
        assert error["errortext"] == f"Unable to find {label} by id {missing} (parameter {parameter})"


def test_private_templates_of_other_accounts_are_refused(bed: Bed, compute_server: ServerProcess) -> None:
    private = bed.admin.registerTemplate(
        name=unique("sbt-pt"), displaytext="p", format="EXTERNAL", hypervisor="External", url="http://dummy",
        zoneid=bed.zone["id"], extensionid=bed.extension["id"], ispublic=False)["template"][0]
    _account, keys = create_account_with_keys(bed.admin, prefix="sbt-dc")
    user = cs_client(compute_server, keys)
    error = _refused(user, zoneid=bed.zone["id"], templateid=private["id"], serviceofferingid=bed.offering["id"])
    assert error["errorcode"] == 531, error
    # The owner itself may use it.
    vm = ok(bed.admin, bed.deploy(templateid=private["id"], name=unique("priv"), startvm=False))
    assert vm["templateid"] == private["id"] and vm["zoneid"] == bed.zone["id"]


def test_custom_offerings_take_their_sizes_from_details(bed: Bed) -> None:
    custom = bed.admin.createServiceOffering(name=unique("sbt-cso"), displaytext="custom", offerha=True,
                                             limitcpuuse=True)["serviceoffering"]
    error = _refused(bed.admin, zoneid=bed.zone["id"], templateid=bed.template["id"],
                     serviceofferingid=custom["id"], networkids=bed.network["id"])
    assert error["errorcode"] == 431
    assert error["errortext"] == (f"The service offering {custom['name']} is a custom offering: give "
                                  "details[0].cpuNumber")
    vm = ok(bed.admin, bed.deploy(serviceofferingid=custom["id"], name=unique("cust"), startvm=False,
                                  **{"details[0].cpuNumber": "3", "details[0].memory": "768"}))
    assert (vm["cpunumber"], vm["cpuspeed"], vm["memory"]) == (3, 0, 768)
    assert vm["serviceofferingid"] == custom["id"] and vm["haenable"] is True
    fixed = ok(bed.admin, bed.deploy(name=unique("fixed"), startvm=False))
    assert (fixed["cpunumber"], fixed["cpuspeed"], fixed["memory"]) == (2, 1000, 512)
    assert fixed["haenable"] is False and fixed["templateid"] == bed.template["id"]
