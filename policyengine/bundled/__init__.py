"""Bundled data: rule packs and JSON Schemas, installed with the package."""
