"""Debt rules: plain Python, no Flask. Fees, the split by cut-off date, totals, kodelinje."""
