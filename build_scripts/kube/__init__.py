"""Kubernetes manifests of TraderAdmin, the one server-side apply, and deploy with its checks."""
