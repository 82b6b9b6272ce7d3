"""Reusable constructs, one concern each."""
