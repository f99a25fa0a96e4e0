"""A small service with its own package called ``app`` (as many real projects have)."""
