"""Instances: lifecycle, planner, power-state sync."""
