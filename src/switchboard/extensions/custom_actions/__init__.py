"""Custom actions: operator-defined actions on an extension with typed, validated parameters (protocol §3.3, §4).

* `parameters` — the parameter model of §4.1: definitions checked at add/update, values checked and
  converted to JSON types at run (pure, no database).
* `messages` — the success/error message templates of §4.4.
* `store` — the custom-action rows, their details and the response records (database).
* `service` — add, update, delete and list, with CloudStack's defaults and role-mask rules.
* `run` — runCustomAction's checks and the run itself (the job handler's work).
"""
