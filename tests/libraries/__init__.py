"""Tests of portal.libraries."""
