"""Conformance cases, one module per topic; each module defines CASES (a list of Case)."""
