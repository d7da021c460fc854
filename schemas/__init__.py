"""Bundled JSON Schemas (package data; see policyengine.bundled)."""
