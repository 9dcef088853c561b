//go:build !windows

package update

// machinePolicyOff: only Windows has a machine-wide policy (the registry);
// elsewhere config.toml's update_policy is the switch.
func machinePolicyOff() bool { return false }
