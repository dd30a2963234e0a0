"""cloudformation: the local cloud's behaviours for this AWS service."""
