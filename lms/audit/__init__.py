"""Append-only, hash-chained audit trail (EU GMP Annex 11 / 21 CFR Part 11)."""

from lms.audit.services import record, verify

__all__ = ["record", "verify"]
