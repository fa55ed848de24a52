"""The generic flow engine: approval flows are data (YAML), one engine runs them all."""
