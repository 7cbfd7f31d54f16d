"""Orchestration used by the views: fetch from providers, then apply the debt rules."""
