"""The version this source tree builds; the release engine rewrites this line."""

__version__ = "0.1.0"
