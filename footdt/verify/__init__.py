"""Verification against closed-form solutions (bar, cantilever, Lame cylinder)."""

from footdt.verify.analytic import CASES, VerificationResult, verify

__all__ = ["CASES", "VerificationResult", "verify"]
