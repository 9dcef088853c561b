"""desktop tasks (being written)."""

from invoke import Collection

ns = Collection()
