"""Bundled rule packs (package data; see policyengine.bundled)."""
