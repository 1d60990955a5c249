"""Delivering digests: chat webhooks and e-mail, configured in secrets by name."""
