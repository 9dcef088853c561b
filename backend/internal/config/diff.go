package config

import (
	"fmt"
	"strconv"
)

// Diff lists the changes from old to new in words, for the audit log. Strategies are matched
// by name; an empty result means the two configurations are equal.
func Diff(old, new Config) []string {
	var changes []string
	add := func(format string, args ...any) { changes = append(changes, fmt.Sprintf(format, args...)) }

	limits := []struct {
		name     string
		old, new float64
	}{
		{"max_position", old.RiskLimits.MaxPosition, new.RiskLimits.MaxPosition},
		{"max_order_value", old.RiskLimits.MaxOrderValue, new.RiskLimits.MaxOrderValue},
		{"max_daily_loss", old.RiskLimits.MaxDailyLoss, new.RiskLimits.MaxDailyLoss},
	}
	for _, l := range limits {
		if l.old != l.new {
			add("risk_limits.%s %s -> %s", l.name, num(l.old), num(l.new))
		}
	}

	for _, o := range old.Strategies {
		if new.Strategy(o.Name) < 0 {
			add("removed strategy %q", o.Name)
		}
	}
	for _, n := range new.Strategies {
		i := old.Strategy(n.Name)
		if i < 0 {
			add("added strategy %q (symbol %s, enabled %t, %d parameters)", n.Name, n.Symbol, n.Enabled, len(n.Parameters))
			continue
		}
		o := old.Strategies[i]
		if o.Symbol != n.Symbol {
			add("strategy %q symbol %s -> %s", n.Name, o.Symbol, n.Symbol)
		}
		if o.Enabled != n.Enabled {
			add("strategy %q enabled %t -> %t", n.Name, o.Enabled, n.Enabled)
		}
		for _, k := range sortedKeys(o.Parameters) {
			nv, ok := n.Parameters[k]
			switch {
			case !ok:
				add("strategy %q removed parameter %s", n.Name, k)
			case nv != o.Parameters[k]:
				add("strategy %q parameter %s %s -> %s", n.Name, k, num(o.Parameters[k]), num(nv))
			}
		}
		for _, k := range sortedKeys(n.Parameters) {
			if _, ok := o.Parameters[k]; !ok {
				add("strategy %q added parameter %s = %s", n.Name, k, num(n.Parameters[k]))
			}
		}
	}

	if len(changes) == 0 && !sameOrder(old, new) {
		add("reordered strategies")
	}
	return changes
}

func sameOrder(a, b Config) bool {
	if len(a.Strategies) != len(b.Strategies) {
		return false
	}
	for i := range a.Strategies {
		if a.Strategies[i].Name != b.Strategies[i].Name {
			return false
		}
	}
	return true
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
