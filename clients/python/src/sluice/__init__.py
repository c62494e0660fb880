"""Sluice's Python client: the generated messages and stubs live in `sluice.v1`; `sluice.client`
connects them to a gateway with an API key."""
