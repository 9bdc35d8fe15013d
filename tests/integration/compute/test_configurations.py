"""Settings under CloudStack's names: listConfigurations shows every setting Switchboard honours that
CloudStack has, with the value this server runs with, its scope and whether it is dynamic;
updateConfiguration changes the dynamic ones at once (`wait` is the extension's timeout from the next run)
and refuses the others, naming the variable to set."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStackApiException

from tests.integration.compute.conftest import ENV
from tests.integration.compute.env import Bed, ok, unique

pytestmark = pytest.mark.database


def _settings(bed: Bed) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in bed.admin.listConfigurations()["configuration"]}


def test_every_honoured_setting_is_listed_with_its_value_scope_and_dynamism(bed: Bed) -> None:
    found = _settings(bed)
    expected = {
        "wait": (ENV["SWITCHBOARD_EXTENSION_WAIT"], True),
        "job.expire.minutes": ("1440", True),
        "extension.path.state.check.interval": ("300", False),
        "ping.interval": (str(int(float(ENV["SWITCHBOARD_POWER_SYNC_INTERVAL"]))), False),
        "enforce.post.requests.and.timestamps": ("false", False),
        "cluster.heartbeat.interval": ("3000", False),
        "cluster.heartbeat.threshold": ("20000", False),
        "vm.userdata.max.length": ("32768", True),
        "api.key.access": ("true", True),
    }
    assert {name: (found[name]["value"], found[name]["isdynamic"]) for name in expected} == expected
    assert found["wait"]["defaultvalue"] == "1800" and found["wait"]["scope"] == "global"
    assert found["wait"]["category"] == "Advanced" and found["wait"]["type"] == "Integer"


def test_a_dynamic_setting_changes_at_once_and_a_static_one_is_refused(bed: Bed) -> None:
    admin = bed.admin
    try:
        answer = admin.updateConfiguration(name="wait", value="5")["configuration"]
        assert (answer["value"], answer["isdynamic"]) == ("5", True)
        assert _settings(bed)["wait"]["value"] == "5"
        vm = ok(admin, bed.deploy(name=unique("wt")))
        create = [c for c in bed.calls_for(vm["id"]) if c["action"] == "create"][-1]
        assert create["argv"][3] == "5"  # the extension's timeout, argv[3]
    finally:
        admin.updateConfiguration(name="wait", value=ENV["SWITCHBOARD_EXTENSION_WAIT"])
    with pytest.raises(CloudStackApiException) as raised:
        admin.updateConfiguration(name="ping.interval", value="10")
    assert raised.value.error["errorcode"] == 431
    assert raised.value.error["errortext"] == ("Configuration ping.interval is not dynamic: set "
                                               "SWITCHBOARD_POWER_SYNC_INTERVAL and restart the server")
    with pytest.raises(CloudStackApiException) as raised:
        admin.updateConfiguration(name="wait", value="0")
    assert raised.value.error["errortext"] == "Invalid value for configuration wait: must be at least 1"
    assert admin.listEvents(type="CONFIGURATION.VALUE.EDIT", keyword="wait").get("count", 0) >= 2
