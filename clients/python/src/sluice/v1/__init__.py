"""Generated from proto/sluice/v1 by clients/python/generate.sh; do not edit."""
