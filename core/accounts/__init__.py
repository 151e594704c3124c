"""Staff accounts: argon2 passwords, bearer tokens, roles and campaigns, the audit log."""
