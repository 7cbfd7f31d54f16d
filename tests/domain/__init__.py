"""Tests of the debt rules in portal/domain (plain Python, no Flask app needed)."""
