"""Observability: health and readiness, Prometheus metrics, structured logs, the request id.

Only `setup.py` imports Flask; the rest is imported by the provider layer too
(`portal.providers.http` records upstream calls and sends the request id). See docs/observability.md.
"""
