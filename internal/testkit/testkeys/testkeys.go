// Package testkeys writes keyring documents for tests and benchmarks, the
// way a user writes one: JSON with an entry per client. It builds the JSON
// itself rather than with the authorizer's types, so that the authorizer's
// own tests can use it (no import cycle) and so that what they read is the
// documented format, not whatever those types happen to encode.
package testkeys

import (
	"encoding/json"
	"fmt"
)

// Key is one client's entry in a keyring: its id, its plain key, and the
// routes it is limited to, if any.
type Key struct {
	ID     string   `json:"id"`
	Key    string   `json:"key"`
	Routes []string `json:"routes,omitempty"`
	// UsageKey is the key's API Gateway API key value, for usage plans.
	UsageKey string `json:"usageKey,omitempty"`
}

// Keyring returns the keyring document holding keys, in order, followed
// by filler clients up to n entries in all: "client-001", "client-002", …
// each with its own valid key. A benchmark sizes a keyring with n.
func Keyring(n int, keys ...Key) []byte {
	all := append([]Key(nil), keys...)
	for i := len(all); i < n; i++ {
		all = append(all, Key{ID: fmt.Sprintf("client-%03d", i), Key: fmt.Sprintf("tg_bench_client_%03d_key_0123456789abcdefghij", i)})
	}
	b, err := json.Marshal(struct {
		Keys []Key `json:"keys"`
	}{all})
	if err != nil { // strings only: cannot happen
		panic(err)
	}
	return b
}
