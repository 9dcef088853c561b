// Package update keeps the desktop app up to date from a signed feed
// (issue 23; the feed's shape: build_scripts/updates and UPDATES.md).
//
// Check reads <feed>/<channel>.json, verifies its minisign signature with the
// key built into the binary before decoding it, and Decide applies the rules:
// newer (or a signed withdrawal of the running version), not withdrawn, not
// failed here before, and inside the rollout bucket. Apply downloads and
// verifies the file, installs it (Linux: rename over the binary, the previous
// kept as .previous; Windows: the installer, silently, in the installation's
// scope, run by a supervisor copy of the old exe) and runs the new version's
// first start as a trial (trial.go); a failed trial restores the previous
// version, records the failed one in update-state.json and checks the restored
// version the same way.
package update
