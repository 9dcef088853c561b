"""Container images: offline base images, hermetic builds, save/push, the local registry."""
