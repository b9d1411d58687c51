"""Tessera: a Python backend platform for commerce-style products."""
