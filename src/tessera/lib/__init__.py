"""Shared libraries: config, errors, logging, db, cache, security, rate limits, web plumbing."""
