"""deployVirtualMachine's guest data and disk parameters: key pairs, user data, disk offering and sizes.

Read for the instance's owner (key pairs are looked up in the owner's account, as CloudStack does).
"""

from __future__ import annotations

from sqlalchemy import select

from switchboard.api.call import Call
from switchboard.api.commands.userdata import user_data_of_call
from switchboard.api.params import Param, ParamType
from switchboard.compute.deploy import GuestDataSpec
from switchboard.db.models.guest_data import UserData
from switchboard.db.models.identity import Domain
from switchboard.errors import InvalidParameter
from switchboard.identity.projects import check_owner
from switchboard.infra import disk_offerings, keypairs, userdata
from switchboard.infra.owners import Owner
from switchboard.infra.volumes import DataDisk

__all__ = ["DEPLOY_GUEST_PARAMS", "data_disk", "guest_data"]

DEPLOY_GUEST_PARAMS = (
    Param("keypair", description="name of the ssh key pair used to login to the virtual machine (deprecated: "
          "use keypairs)"),
    Param("keypairs", ParamType.LIST, item_type=ParamType.STRING, description="names of the ssh key pairs used "
          "to login to the virtual machine", since="4.17"),
    Param("userdata", description="an optional binary data that can be sent to the virtual machine upon a "
          "successful deployment, base64-encoded (up to 4KB in a GET, 1MB in a POST)", length=1048576),
    Param("userdataid", ParamType.UUID, description="the ID of the Userdata", since="4.18"),
    Param("userdatadetails", ParamType.MAP, description="used to specify the parameters values for the variables "
          "in userdata.", since="4.18"),
    Param("diskofferingid", ParamType.UUID, description="the ID of the disk offering for the DATADISK volume"),
    Param("size", ParamType.LONG, description="the arbitrary size for the DATADISK volume (GB), for a customized "
          "disk offering"),
    Param("rootdisksize", ParamType.LONG, description="Optional field to resize root disk on deploy. Value is in "
          "GB. details[0].rootdisksize takes precedence over this parameter if both are provided", since="4.4"),
    Param("projectid", ParamType.UUID, description="Deploy vm for the project"),
)


def guest_data(call: Call, owner: Owner) -> GuestDataSpec:
    """The key pairs (all must exist in the owner's account) and user data the instance is given."""
    names = list(call.get("keypairs") or [])
    if call.get("keypair"):
        names.append(call.get("keypair"))
    pairs = keypairs.keypairs_named(call.session, owner, names) if names else []

    def may_use(registered: UserData) -> None:  # the caller may act for its account
        path = call.session.execute(select(Domain.path).where(Domain.id == registered.domain_id)).scalar_one()
        check_owner(call.session, call.who, account_id=registered.account_id, domain_path_stored=path)

    content, registered_id = user_data_of_call(call, may_use)
    return GuestDataSpec(
        keypairs=[(pair.name, pair.public_key) for pair in pairs], user_data=content, user_data_id=registered_id,
        user_data_details=userdata.details_text(call.map_param("userdatadetails")) if content else None,
    )


def data_disk(call: Call) -> DataDisk | None:
    """The DATADISK the deploy asks for (`diskofferingid`, with `size` for a customized offering)."""
    if call.get("diskofferingid") is None:
        if call.get("size") is not None:
            raise InvalidParameter("size is given for a DATADISK: give diskofferingid too", parameter="size")
        return None
    offering = disk_offerings.get_disk_offering(call.session, call.get("diskofferingid"))
    return DataDisk(offering, call.get("size"))
