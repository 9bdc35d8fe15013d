"""Operator settings with CloudStack's names, scopes and inheritance (listConfigurations/updateConfiguration)."""

from switchboard.configuration.definitions import DEFINITIONS, Scope, Setting
from switchboard.configuration.live import LiveSettings
from switchboard.configuration.service import effective_value, global_values, is_enabled, scoped_values, set_value

__all__ = ["DEFINITIONS", "LiveSettings", "Scope", "Setting", "effective_value", "global_values", "is_enabled",
           "scoped_values",
           "set_value"]
