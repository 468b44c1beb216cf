"""Rules of the input area."""
