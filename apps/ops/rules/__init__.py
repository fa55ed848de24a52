"""The generic rule engine: IF-THEN automations are data (YAML), one engine runs them all."""
