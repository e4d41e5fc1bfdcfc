"""Sign in by emailed one-time code; sessions in JWT cookies."""
