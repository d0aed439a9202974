"""Parley's core: domain models, services and data access shared by every Lambda handler."""
