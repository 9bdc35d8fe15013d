"""Instances: their lifecycle, where they run, and their power state.

* `states` — the state machine (explicit moves, conditional updates on `updated`).
* `deploy` — deployVirtualMachine's synchronous half: checks and the Stopped instance with its NICs.
* `planner` — the host for a start (§3.4) and the refusal of unusable extensions.
* `actions` — one lifecycle action through the extension runner with the payload module's payload.
* `lifecycle` — start (prepare/create/start), stop, reboot, destroy, expunge, recover; repair after a crash.
* `power_sync`, `lease` — the power-sync loop (bulk `statuses`, per-instance fallback) on one server at a time.
* `instance_rows` — live instances by public id; `instance_listing` — listVirtualMachines' reads.
* `jobs` — the names and handlers of the instance jobs. `settings` — the area's parameters.

What a run needs from the database (host groups, InstanceInfo) is the extensions framework's
(`switchboard.extensions.payload_inputs`).
"""
