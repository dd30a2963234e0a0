"""Formats both the kit (helpers) and the local cloud (localcloud) use: timestamps, the model artifact, DynamoDB JSON.

Imports nothing from either, so neither depends on the other through it.
"""
