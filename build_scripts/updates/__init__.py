"""The desktop update feed: keys, signatures, manifests, release notes, publishing, serving."""
