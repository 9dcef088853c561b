"""Shipping a release to a cluster: images pinned by digest whatever their source, the
environment's manifests rendered once, the deploy sequence of kube/ run on them."""
