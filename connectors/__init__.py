"""Connectors, split by role: ``sources``, ``sinks`` and ``serde``."""
