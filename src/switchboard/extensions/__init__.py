"""The Extensions Framework: registry and paths, readiness, the runner, the payload builder.

Pure machinery (no database):

* `paths` — extensions/payload roots, entry-point normalisation and confinement, checksums (§1.5, §1.7).
* `scaffold` — Switchboard's scaffold script and the prepare-path step.
* `runner` — the only code that starts extension processes.
* `payload_model` / `payload` — the values the services fill in, and the only code that shapes payloads (§2).
* `prepare_output` — the `prepare` merge patch and what is persisted from it (§2.6).
* `power` — reading `status` / `statuses` answers (§1.3).
* `readiness` — this server's checksums and the across-servers decision.
* `kit` — `switchboard ext scaffold|check`, the extension author's kit.

On the database:

* `registry`, `store`, `cleanup` — extensions and their details, registration with clusters (§1).
* `path_state` — the periodic readiness check; `linker` — infrastructure's extension seam.
* `payload_inputs` — what a run needs, read in a fixed number of queries (host groups, InstanceInfo), for
  the instance lifecycle and custom actions alike.
* `custom_actions` — custom actions (§4); `builtins` — the extensions shipped with Switchboard.
"""
