"""Fuzz campaign of amlforge (``make fuzz``; a fixed-seed sample runs in the tests)."""
