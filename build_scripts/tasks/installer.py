"""installer tasks (being written)."""

from invoke import Collection

ns = Collection()
