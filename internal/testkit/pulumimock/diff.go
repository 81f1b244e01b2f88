package pulumimock

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
)

// Change is what an update does to one resource, going from one run of
// a program to the next.
type Change string

const (
	Create  Change = "create"
	Delete  Change = "delete"
	Update  Change = "update"
	Replace Change = "replace"
)

// Diff is what `pulumi up` would do to go from the resources before to
// those after, by "type name": created, deleted, updated in place, or
// replaced (an input the provider cannot change in place, Replace, has
// changed). Unchanged resources are left out.
func Diff(before, after *Mocks) map[string]Change {
	old, now := index(before), index(after)
	out := map[string]Change{}
	for key, r := range now {
		o, ok := old[key]
		switch {
		case !ok:
			out[key] = Create
		case replaces(o, r):
			out[key] = Replace
		case !reflect.DeepEqual(o.Inputs, r.Inputs):
			out[key] = Update
		}
	}
	for key := range old {
		if _, ok := now[key]; !ok {
			out[key] = Delete
		}
	}
	return out
}

func index(m *Mocks) map[string]Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Resource{}
	for _, r := range m.Resources {
		out[r.Type+" "+r.Name] = r
	}
	return out
}

// replaces reports whether going from o to r replaces the resource.
func replaces(o, r Resource) bool {
	props := append(slices.Clone(Provider[r.Type].Replace), r.RPC.GetReplaceOnChanges()...)
	if slices.Contains(props, "*") {
		props = slices.Collect(maps.Keys(r.Inputs))
		for k := range o.Inputs {
			props = append(props, k)
		}
	}
	for _, p := range props {
		if !reflect.DeepEqual(o.Inputs[p], r.Inputs[p]) {
			return true
		}
	}
	return false
}

// Conflicts are the replacements of Diff that AWS would refuse: a new
// resource created before the old one is deleted (Pulumi's default),
// with the same identity (Identity inputs, set by the program rather
// than autonamed, whose new random suffix would tell them apart).
func Conflicts(before, after *Mocks) []string {
	old, now := index(before), index(after)
	var out []string
	for key, c := range Diff(before, after) {
		if c != Replace {
			continue
		}
		o, r := old[key], now[key]
		rules := Provider[r.Type]
		if r.RPC.GetDeleteBeforeReplace() {
			continue
		}
		if p := rules.Exclusive; p != "" && reflect.DeepEqual(o.Inputs[p], r.Inputs[p]) {
			out = append(out, fmt.Sprintf("%s: replaced before its predecessor is deleted, with the same %s: %s", key, p, rules.ExclusiveSource))
			continue
		}
		if len(rules.Identity) == 0 {
			continue
		}
		same := true
		for _, p := range rules.Identity {
			autonamed := rules.Autoname != nil && rules.Autoname.Prop == p && r.Inputs[p] == Autonamed(r.Name)
			if autonamed || !reflect.DeepEqual(o.Inputs[p], r.Inputs[p]) {
				same = false
			}
		}
		if same {
			out = append(out, fmt.Sprintf("%s: replaced with the same %v", key, rules.Identity))
		}
	}
	slices.Sort(out)
	return out
}
