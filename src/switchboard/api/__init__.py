"""The CloudStack-compatible API at /client/api: thin edges over the services."""
