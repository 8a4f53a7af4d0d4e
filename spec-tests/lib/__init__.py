"""Helpers for berth's end-to-end tests (spec-tests). Importable as `lib`."""
