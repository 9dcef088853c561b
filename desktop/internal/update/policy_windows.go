//go:build windows

package update

import (
	"strings"

	"golang.org/x/sys/windows/registry"
)

// machinePolicyOff reads HKLM\Software\TraderAdmin UpdatePolicy (REG_SZ),
// which a managed desk's MSI or group policy sets to "off".
func machinePolicyOff() bool {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `Software\TraderAdmin`, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	v, _, err := k.GetStringValue("UpdatePolicy")
	return err == nil && strings.EqualFold(strings.TrimSpace(v), "off")
}
