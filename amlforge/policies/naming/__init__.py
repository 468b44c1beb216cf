"""Rules of the naming area."""
