"""The extension author's kit: `switchboard ext scaffold` and `switchboard ext check`."""
