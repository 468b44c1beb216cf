"""Rules of the spec area."""
