"""Infrastructure: where instances run and what they are made from and connected to.

One module per concept, each a set of repository/service functions that take the request's (or job's)
SQLAlchemy session and leave committing to it:

* `zones`, `pods`, `clusters`, `hosts` — the placement hierarchy; External clusters carry the extension
  link (`clusters.link_extension`, `clusters.resource_map_details`), hosts their `host` payload group
  (`hosts.host_details`) and status (`hosts.set_status`).
* `guest_os`, `templates`, `offerings` — OS types, templates (`templates.template_details`), service
  offerings (`offerings.offering_details`) and network offerings.
* `networks`, `nics` — guest networks with VLANs, NIC allocation and the payload-ready `nics.NicView`.
* `events` — `record_event` for every area, `record_alert`, and their listings.
* `extension_link`, `usage` — the seams other areas plug into (the extension linker, deletion guards).
"""
