"""Rules of the security area: secrets, network access, authentication and identities."""
