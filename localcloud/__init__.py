"""The local cloud: moto's server plus the AWS behaviours moto lacks, each an engine and its hooks.

Start it with ``python -m localcloud up``; ``server.HOOK_MODULES`` lists what it installs into
moto, and the code map in docs/local-cloud.md says what each module does.
"""
