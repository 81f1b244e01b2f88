package authorizer

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// clientsPerSecret is how many clients of a shape one secret holds: the
// most whose compact keyring (as the deploy stores it) passes
// CheckKeyringSize.
func clientsPerSecret(t *testing.T, shape func(i int) Key) int {
	t.Helper()
	var kr Keyring
	for i := 0; ; i++ {
		kr.Keys = append(kr.Keys, shape(i))
		b, err := json.Marshal(kr)
		if err != nil {
			t.Fatal(err)
		}
		if CheckKeyringSize(len(b), len(kr.Keys)) != nil {
			return i
		}
	}
}

// The numbers docs/keys.md states, measured: how many clients fit in one
// secret, by what their entries hold.
func TestClientsPerSecret(t *testing.T) {
	until := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	shapes := []struct {
		doc   string
		shape func(i int) Key
	}{
		{"a digest and an id of 11 characters", func(i int) Key {
			return Key{ID: fmt.Sprintf("client-%04d", i), SHA256: Digest(fmt.Sprint(i))}
		}},
		{"and a usage plan's API key", func(i int) Key {
			return Key{ID: fmt.Sprintf("client-%04d", i), SHA256: Digest(fmt.Sprint(i)), UsageKey: strings.Repeat("u", 40)}
		}},
		{"and two routes", func(i int) Key {
			return Key{ID: fmt.Sprintf("client-%04d", i), SHA256: Digest(fmt.Sprint(i)), Routes: []string{"GET /orders/*", "POST /orders"}}
		}},
		{"and a rotated-out key in its grace", func(i int) Key {
			return Key{ID: fmt.Sprintf("client-%04d", i), SHA256: Digest(fmt.Sprint(i)), Previous: []PreviousKey{{SHA256: Digest(fmt.Sprint("p", i)), Until: until}}}
		}},
	}
	doc, err := os.ReadFile("../docs/keys.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shapes {
		n := clientsPerSecret(t, s.shape)
		row := fmt.Sprintf("| %s | %d |", s.doc, n)
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/keys.md lacks the row %q", row)
		}
	}
}
