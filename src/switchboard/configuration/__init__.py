"""Operator settings with CloudStack's names, scopes and inheritance (listConfigurations/updateConfiguration)."""

from switchboard.configuration.definitions import DEFINITIONS, Scope, Setting
from switchboard.configuration.service import effective_value, is_enabled, scoped_values, set_value

__all__ = ["DEFINITIONS", "Scope", "Setting", "effective_value", "is_enabled", "scoped_values", "set_value"]
