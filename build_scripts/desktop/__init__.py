"""The Wails desktop app: builds per platform and the Linux smoke test."""
