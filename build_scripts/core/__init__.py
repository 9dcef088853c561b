"""The ground floor every wing stands on: running tools, errors, progress, atomic writes, paths,
the tool catalogue, the release metadata and the host daemons (pid files, dockerd)."""
