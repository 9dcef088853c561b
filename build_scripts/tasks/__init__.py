"""Invoke task modules: thin wrappers that read config and call build_scripts functions."""
