"""Scoring script rules (AML5xx): static checks of score.py with ast, never executed."""
