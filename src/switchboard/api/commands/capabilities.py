"""listCapabilities: what clients such as CloudMonkey and the UI read to adapt themselves."""

from __future__ import annotations

from importlib import metadata

from switchboard.api.call import Call
from switchboard.api.registry import api_command
from switchboard.api.responses import ObjectResponse
from switchboard.api.shapes import Field, Shape, T
from switchboard.roles import ALL_ROLES

# The CloudStack API level Switchboard speaks (the Extensions Framework arrived in 4.21.0).
CLOUDSTACK_VERSION = "4.21.0.0"


def switchboard_version() -> str:
    try:
        return metadata.version("switchboard")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "0+unknown"


CAPABILITY = Shape("capability", [
    Field("cloudstackversion", T.STRING, "version of the cloud stack"),
    Field("switchboardversion", T.STRING, "version of Switchboard"),
    Field("securitygroupsenabled", T.BOOLEAN, "true if security groups support is enabled, false otherwise"),
    Field("userpublictemplateenabled", T.BOOLEAN, "true if user and domain admins can set templates to be shared, "
          "false otherwise"),
    Field("supportELB", T.STRING, "true if region supports elastic load balancer on basic zones"),
    Field("projectinviterequired", T.BOOLEAN, "If invitation confirmation is required when add account to project"),
    Field("allowusercreateprojects", T.BOOLEAN, "true if regular user is allowed to create projects"),
    Field("customdiskofferingminsize", T.LONG, "minimum size that can be specified when create disk from disk "
          "offering with custom size"),
    Field("customdiskofferingmaxsize", T.LONG, "maximum size that can be specified when create disk from disk "
          "offering with custom size"),
    Field("customhypervisordisplayname", T.STRING, "Display name for custom hypervisor"),
    Field("regionsecondaryenabled", T.BOOLEAN, "true if region wide secondary is enabled, false otherwise"),
    Field("kvmsnapshotenabled", T.BOOLEAN, "true if snapshot is supported for KVM host, false otherwise"),
    Field("snapshotshowchainsize", T.BOOLEAN, "true to show the parent and chain size (sum of physical size of "
          "snapshot and all its parents) for incremental snapshots"),
    Field("allowuserviewdestroyedvm", T.BOOLEAN, "true if the user is allowed to view destroyed virtualmachines, "
          "false otherwise"),
    Field("allowuserexpungerecovervm", T.BOOLEAN, "true if the user can recover and expunge virtualmachines, false "
          "otherwise"),
    Field("allowuserexpungerecovervolume", T.BOOLEAN, "true if the user can recover and expunge volumes, false "
          "otherwise"),
    Field("allowuserviewalldomainaccounts", T.BOOLEAN, "true if users can see all accounts within the same domain, "
          "false otherwise"),
    Field("allowuserforcestopvm", T.BOOLEAN, "true if users are allowed to force stop a vm, false otherwise"),
    Field("kubernetesserviceenabled", T.BOOLEAN, "true if Kubernetes Service plugin is enabled, false otherwise"),
    Field("kubernetesclusterexperimentalfeaturesenabled", T.BOOLEAN, "true if experimental features for "
          "Kubernetes cluster such as Docker private registry are enabled, false otherwise"),
    Field("dynamicrolesenabled", T.BOOLEAN, "true if dynamic role-based api checker is enabled, false otherwise"),
    Field("defaultuipagesize", T.LONG, "default page size in the UI for various views, value set in the "
          "configurations"),
    Field("apilimitinterval", T.INTEGER, "time interval (in seconds) to reset api count"),
    Field("instancesstatsretentiontime", T.INTEGER, "the retention time for Instances stats"),
    Field("instancesstatsuseronly", T.BOOLEAN, "true if stats are collected only for user instances, false if "
          "system instance stats are also collected"),
    Field("instancesdisksstatsretentionenabled", T.BOOLEAN, "true if stats are retained for instance disks "
          "otherwise false"),
    Field("instancesdisksstatsretentiontime", T.INTEGER, "the retention time for Instances disks stats"),
    Field("sharedfsvmmincpucount", T.INTEGER, "the min CPU count for the service offering used by the shared "
          "filesystem instance"),
    Field("sharedfsvmminramsize", T.INTEGER, "the min Ram size for the service offering used by the shared "
          "filesystem instance"),
])


@api_command(
    "listCapabilities",
    roles=ALL_ROLES,
    description="Lists capabilities",
    response=CAPABILITY,
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
        "allowusercreateprojects": True,  # any role may createProject (allow.user.create.projects=true)
        "customdiskofferingminsize": 1,
        "customdiskofferingmaxsize": 1024,
        "customhypervisordisplayname": "Custom",
        "regionsecondaryenabled": False,
        "kvmsnapshotenabled": False,
        "snapshotshowchainsize": False,
        "allowuserviewdestroyedvm": True,
        # Only administrators expunge and recover (EXPUNGE_ROLES), as allow.user.expunge.recover.vm=false.
        "allowuserexpungerecovervm": False,
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
