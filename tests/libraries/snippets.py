"""Minimal valid [[library]] tables to build test files from."""

LYNGBY = """
[[library]]
slug = "lyngby"
name = "Lyngby-Taarbæk Bibliotekerne"
agency_id = "DK-717300"
cutoff_date = 2021-06-15
"""

RODOVRE = """
[[library]]
slug = "rodovre"
name = "Rødovre Bibliotek"
agency_id = "DK-717500"
cutoff_date = 2019-07-01
"""
