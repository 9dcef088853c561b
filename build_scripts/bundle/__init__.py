"""The air-gapped release bundle: one signed tar holding the installer, the desktop binaries,
the images as OCI layouts, digest-pinned manifests, SBOMs and provenance; verified offline with
standard tools, deployed from the bundle alone."""
