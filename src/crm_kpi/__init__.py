"""Tooling of the CRM KPI warehouse: raw-data generator, runner, expectation suites, loaders, benchmark."""

__version__ = "0.1.0"
