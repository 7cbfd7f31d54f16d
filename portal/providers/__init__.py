"""Clients of upstream systems (FBS, …), one shared httpx.Client, one caching layer."""
