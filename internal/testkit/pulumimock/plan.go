package pulumimock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Masked stands for a secret input in a Plan.
const Masked = "[secret]"

// Plan is every resource registered, readable in a diff: sorted by type
// and name, each with its parent, options and inputs. Secret inputs are
// Masked; string inputs holding a JSON object (policies, the OpenAPI
// document) are shown as the object; mask, if not nil, may replace any
// other input (such as an archive's hash, which depends on the Go
// toolchain) and reports whether it did.
func (m *Mocks) Plan(mask func(r Resource, key string) (any, bool)) []byte {
	m.mu.Lock()
	rs := slices.Clone(m.Resources)
	m.mu.Unlock()
	slices.SortFunc(rs, func(a, b Resource) int {
		return strings.Compare(a.Type+" "+a.Name, b.Type+" "+b.Name)
	})
	var b bytes.Buffer
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %s\n", r.Type, r.Name)
		if p := r.RPC.GetParent(); p != "" && !strings.HasSuffix(p, "pulumi:pulumi:Stack::"+stackSuffix(p)) {
			fmt.Fprintf(&b, "  parent: %s\n", urnName(p))
		}
		if deps := r.RPC.GetDependencies(); len(deps) > 0 {
			var names []string
			for _, d := range deps {
				names = append(names, urnName(d))
			}
			slices.Sort(names)
			fmt.Fprintf(&b, "  dependsOn: %s\n", strings.Join(slices.Compact(names), ", "))
		}
		if r.RPC.GetRetainOnDelete() {
			b.WriteString("  retainOnDelete: true\n")
		}
		if r.RPC.GetDeleteBeforeReplace() {
			b.WriteString("  deleteBeforeReplace: true\n")
		}
		inputs := map[string]any{}
		for k, v := range r.Inputs {
			switch {
			case r.Secrets[k]:
				inputs[k] = Masked
			case mask != nil:
				if mv, ok := mask(r, k); ok {
					inputs[k] = mv
					continue
				}
				inputs[k] = readable(v)
			default:
				inputs[k] = readable(v)
			}
		}
		if len(inputs) > 0 {
			j, err := json.MarshalIndent(inputs, "  ", "  ")
			if err != nil {
				j = []byte(fmt.Sprintf("%q", err))
			}
			fmt.Fprintf(&b, "  inputs: %s\n", j)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// readable is v with strings that hold a JSON object decoded.
func readable(v any) any {
	switch v := v.(type) {
	case string:
		if strings.HasPrefix(v, "{") {
			var obj map[string]any
			if json.Unmarshal([]byte(v), &obj) == nil {
				return obj
			}
		}
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = readable(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = readable(e)
		}
		return out
	}
	return v
}

// urnName is a URN's type and name: urn:pulumi:stack::project::type::name.
func urnName(urn string) string {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return urn
	}
	typ := parts[2]
	if i := strings.LastIndexByte(typ, '$'); i >= 0 {
		typ = typ[i+1:]
	}
	return typ + " " + parts[3]
}

func stackSuffix(urn string) string {
	parts := strings.Split(urn, "::")
	return parts[len(parts)-1]
}
