"""The demo cloud `switchboard serve` seeds into an empty cloud, so that a newcomer can deploy at once."""
