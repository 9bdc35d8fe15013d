"""listCapabilities: what clients such as CloudMonkey and the UI read to adapt themselves."""

from __future__ import annotations

from importlib import metadata

from switchboard.api.call import Call
from switchboard.api.registry import api_command
from switchboard.api.responses import ObjectResponse
from switchboard.roles import ALL_ROLES

# The CloudStack API level Switchboard speaks (the Extensions Framework arrived in 4.21.0).
CLOUDSTACK_VERSION = "4.21.0.0"


def switchboard_version() -> str:
    try:
        return metadata.version("switchboard")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "0+unknown"


@api_command(
    "listCapabilities",
    roles=ALL_ROLES,
    description="Lists capabilities",
    response_object="capability",
)
def list_capabilities(_call: Call) -> ObjectResponse:
    return ObjectResponse("capability", {
        # Exactly CloudStack's form: clients parse it as a version number.
        "cloudstackversion": CLOUDSTACK_VERSION,
        "switchboardversion": switchboard_version(),
        "securitygroupsenabled": False,
        "userpublictemplateenabled": True,
        "supportELB": "false",
        "projectinviterequired": False,
        "allowusercreateprojects": False,
        "customdiskofferingminsize": 1,
        "customdiskofferingmaxsize": 1024,
        "customhypervisordisplayname": "Custom",
        "regionsecondaryenabled": False,
        "kvmsnapshotenabled": False,
        "snapshotshowchainsize": False,
        "allowuserviewdestroyedvm": True,
        "allowuserexpungerecovervm": True,
        "allowuserexpungerecovervolume": True,
        "allowuserviewalldomainaccounts": False,
        "allowuserforcestopvm": True,
        "kubernetesserviceenabled": False,
        "kubernetesclusterexperimentalfeaturesenabled": False,
        "dynamicrolesenabled": True,
        "defaultuipagesize": 20,
        "apilimitinterval": 1,
        "instancesstatsretentiontime": 720,
        "instancesstatsuseronly": False,
        "instancesdisksstatsretentionenabled": False,
        "instancesdisksstatsretentiontime": 720,
        "sharedfsvmmincpucount": 0,
        "sharedfsvmminramsize": 0,
    })
