"""API v1 routes (see casemgr/api/openapi.py for the contract)."""
