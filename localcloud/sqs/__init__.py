"""sqs: the local cloud's behaviours for this AWS service."""
