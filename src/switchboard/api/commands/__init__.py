"""Every API command module, imported so that the registry knows all commands. Add new modules here."""
