"""Tooling of the CRM KPI warehouse: the main job and its CLI, raw-data generator, expectations, loaders, benchmark."""

__version__ = "0.1.0"
