package authorizer

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"tollgate/internal/iam"
)

func TestParseKeyringFixtures(t *testing.T) {
	kr, err := ParseKeyring(fixture(t, "keyrings/current.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(kr.Keys) != 3 || kr.Keys[1].ID != "orders-bot" || len(kr.Keys[1].Routes) != 2 || kr.Keys[2].UsageKey != partnerUsage {
		t.Errorf("ParseKeyring(current.json) = %+v", kr)
	}
	// A bare string is one key named "default", surrounding white space
	// (a trailing newline from an editor) trimmed.
	kr, err = ParseKeyring(fixture(t, "keyrings/bare.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Key{ID: DefaultKeyID, Key: "tg_test_seed_bare_string_key_0123456789abcdef"}); len(kr.Keys) != 1 || kr.Keys[0].ID != want.ID || kr.Keys[0].Key != want.Key {
		t.Errorf("ParseKeyring(bare.txt) = %+v, want [%+v]", kr, want)
	}
}

// Every refusal names the key by id (or position) and never quotes a key.
func TestParseKeyringErrors(t *testing.T) {
	const good = "tg_test_good_key_0123456789abcdefghijklmnop"
	const other = "tg_test_other_key_0123456789abcdefghijklmno"
	tests := []struct {
		name, secret, want string
	}{
		{"empty", "", "the secret is empty"},
		{"white space", " \n", "the secret is empty"},
		{"no keys", `{"keys":[]}`, "no keys"},
		{"keys missing", `{}`, "no keys"},
		{"not JSON", `{"keys":[`, "invalid JSON"},
		{"array", `[{"id":"a","key":"` + good + `"}]`, "not a JSON array"},
		{"JSON string", `"` + good + `"`, "not a JSON array or string"},
		{"trailing data", `{"keys":[{"id":"a","key":"` + good + `"}]} {}`, "data after"},
		{"unknown field", `{"keys":[{"id":"a","key":"` + good + `","route":["GET /x"]}]}`, `unknown field "route"`},
		{"key pasted as a field name", `{"keys":[{"id":"a","` + other + `":1}]}`, "unknown field"},
		{"wrong type", `{"keys":[{"id":"a","key":12345678901234567890123456789012345}]}`, `field "keys.key" holds a JSON number`},
		{"missing id", `{"keys":[{"key":"` + good + `"}]}`, "key #1: missing id"},
		{"bad id", `{"keys":[{"id":"a b","key":"` + good + `"}]}`, `key #1: the id holds a character`},
		{"short key", `{"keys":[{"id":"short","key":"tg_test_only_31_bytes_long_abcd"}]}`, `key "short": shorter than 32 bytes`},
		{"short bare key", "tg_test_only_31_bytes_long_abcd", `key "default": shorter than 32 bytes`},
		{"long key", `{"keys":[{"id":"long","key":"` + strings.Repeat("k", MaxKeyLength+1) + `"}]}`, `key "long": longer than 1024 bytes`},
		{"space in key", `{"keys":[{"id":"sp","key":"tg_test_key with_a_space_0123456789abc"}]}`, `key "sp": holds a character`},
		{"comma in key", `{"keys":[{"id":"cm","key":"tg_test_key,with_a_comma_0123456789abc"}]}`, `key "cm": holds a character`},
		{"non-ASCII key", `{"keys":[{"id":"na","key":"tg_test_key_é_0123456789abcdefghijklmn"}]}`, `key "na": holds a character`},
		{"duplicate id", `{"keys":[{"id":"a","key":"` + good + `"},{"id":"a","key":"` + other + `"}]}`, `key "a": duplicate id`},
		{"duplicate key", `{"keys":[{"id":"a","key":"` + good + `"},{"id":"b","key":"` + good + `"}]}`, `key "b": same key as key "a"`},
		{"route without path", `{"keys":[{"id":"r","key":"` + good + `","routes":["GET"]}]}`, `key "r": route #1: want "METHOD /path"`},
		{"route with bad method", `{"keys":[{"id":"r","key":"` + good + `","routes":["FETCH /x"]}]}`, `key "r": route #1: unknown method`},
		{"route without slash", `{"keys":[{"id":"r","key":"` + good + `","routes":["GET x"]}]}`, "path must start with /"},
		{"route with space in path", `{"keys":[{"id":"r","key":"` + good + `","routes":["GET /a b"]}]}`, "path holds a character"},
		{"empty route list", `{"keys":[{"id":"r","key":"` + good + `","routes":[]}]}`, `key "r": empty route list`},
		{"sha256 and key", `{"keys":[{"id":"d","key":"` + good + `","sha256":"` + Digest(good) + `"}]}`, `key "d": both sha256 and key`},
		{"neither sha256 nor key", `{"keys":[{"id":"d"}]}`, `key "d": no sha256`},
		{"short sha256", `{"keys":[{"id":"d","sha256":"abc"}]}`, `key "d": sha256 is not 64 hex digits`},
		{"upper-case sha256", `{"keys":[{"id":"d","sha256":"` + strings.ToUpper(Digest(good)) + `"}]}`, `key "d": sha256 is not 64 hex digits`},
		{"same digest twice", `{"keys":[{"id":"a","key":"` + good + `"},{"id":"b","sha256":"` + Digest(good) + `"}]}`, `key "b": same key as key "a"`},
		{"previous same as current", `{"keys":[{"id":"a","key":"` + good + `","previous":[{"sha256":"` + Digest(good) + `","until":"2026-12-08T00:00:00Z"}]}]}`, `key "a": previous key #1: same key`},
		{"previous without until", `{"keys":[{"id":"a","key":"` + good + `","previous":[{"sha256":"` + Digest(other) + `"}]}]}`, `key "a": previous key #1: no until`},
		{"previous with a bad digest", `{"keys":[{"id":"a","key":"` + good + `","previous":[{"sha256":"x","until":"2026-12-08T00:00:00Z"}]}]}`, `previous key #1: sha256 is not`},
		{"expires not RFC 3339", `{"keys":[{"id":"a","key":"` + good + `","expires":"tomorrow"}]}`, `not RFC 3339`},
		{"mistyped tollgate key", `{"keys":[{"id":"a","key":"tgk_0123456789abcdefghijklmnopqrstuvWXYZ00"}]}`, `key "a": starts with tgk_ but its checksum does not match`},
		{"short usage key", `{"keys":[{"id":"u","key":"` + good + `","usageKey":"tooshort"}]}`, `key "u": usageKey shorter than 20`},
		{"plan without a usage key", `{"keys":[{"id":"u","key":"` + good + `","plan":"free"}]}`, `key "u": a plan without a usageKey`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeyring([]byte(tt.secret))
			if err == nil {
				t.Fatalf("ParseKeyring() = nil error, want %q", tt.want)
			}
			if !errors.Is(err, ErrMalformedKeyring) {
				t.Errorf("error %v does not wrap ErrMalformedKeyring", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			for _, k := range []string{good, other, "tg_test_only_31_bytes_long_abcd", "with_a_space_0123456789abc", "with_a_comma_0123456789abc", "tooshort"} {
				if strings.Contains(err.Error(), k) {
					t.Errorf("error %q quotes a key", err)
				}
			}
		})
	}
}

// A route limit compiles to the policy resources that allow exactly its
// routes (routeLimit): ANY is each method, never IAM's "*" (which matches
// "/" too); a parameter is one or more bytes, and a one-segment one is
// kept to its segment by a Deny of its longer paths.
func TestRoutes(t *testing.T) {
	every := func(path string) string {
		var out []string
		for _, m := range iam.Methods() {
			out = append(out, m+path)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		routes      []string
		allow, deny string
	}{
		{[]string{"GET /orders/*"}, "GET/orders/*", ""},
		{[]string{"POST /orders"}, "POST/orders", ""},
		{[]string{"ANY /admin/*"}, every("/admin/*"), ""},
		{[]string{"* /"}, every("/"), ""},
		{[]string{"DELETE /orders/?"}, "DELETE/orders/?", ""},
		{[]string{"GET /orders/{id}"}, "GET/orders/?*", "GET/orders/*/*"},
		{[]string{"GET /orders/{id}/items/{n}"}, "GET/orders/?*/items/?*", "GET/orders/*/*/items/* GET/orders/*/items/*/*"},
		{[]string{"ANY /files/{proxy+}"}, every("/files/?*"), ""},
		// Another method's longer path is not in the way.
		{[]string{"GET /orders/{id}", "POST /orders/{id}/items"}, "GET/orders/?* POST/orders/?*/items", "GET/orders/*/* POST/orders/*/*/items"},
		// A greedy route beside covers what the Allow says past the
		// segment: no Deny is needed.
		{[]string{"GET /files/{id}", "GET /files/{path+}"}, "GET/files/?*", ""},
	}
	for _, tt := range tests {
		l, err := compileRoutes(tt.routes)
		if err != nil {
			t.Errorf("compileRoutes(%q): %v", tt.routes, err)
			continue
		}
		if got := strings.Join(l.allow, " "); got != tt.allow {
			t.Errorf("compileRoutes(%q) allows %q, want %q", tt.routes, got, tt.allow)
		}
		if got := strings.Join(l.paramDeny, " "); got != tt.deny {
			t.Errorf("compileRoutes(%q) denies %q, want %q", tt.routes, got, tt.deny)
		}
	}
	for _, tt := range []struct {
		routes []string
		want   string
	}{
		{[]string{"GET /orders/{id}", "GET /orders/{id}/items"}, "routes #1 and #2"},
		{[]string{"ANY /orders/{id}", "GET /orders/{id}/items"}, "routes #1 and #2"},
		{[]string{"GET /orders/*/{id}"}, "route #1"},
		{[]string{"GET /a", "GET /orders/{id}*"}, "route #2"},
		{[]string{"GET /orders/{}"}, "route #1"},
		{[]string{"GET orders"}, "route #1"},
	} {
		if _, err := compileRoutes(tt.routes); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("compileRoutes(%q) = %v, want an error naming %s", tt.routes, err, tt.want)
		}
	}
}

// pathDenied is a fast scan for what the pathDenies globs match.
func TestPathDeniedIsItsGlobs(t *testing.T) {
	check := func(s string) {
		want := false
		for _, g := range pathDenies {
			want = want || iam.Match(g, s)
		}
		if got := pathDenied([]byte(s)); got != want {
			t.Errorf("pathDenied(%q) = %v, the globs say %v", s, got, want)
		}
	}
	for _, s := range []string{"GET/a/../b", "GET/..", "GET/a/..", "GET/a/.", "GET/./a", "GET/a/..b", "GET/.a", "GET/a%2eb",
		"GET/a%2", "GET/a%", "GET/%25", "GET/%2F", "GET/%5c", "GET", "GET/", "./a", "../a", "GET/a%2g"} {
		check(s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	const chars = "./%2eEfF5cC0aG"
	for range 20000 {
		b := make([]byte, 1+r.IntN(12))
		for i := range b {
			b[i] = chars[r.IntN(len(chars))]
		}
		check(string(b))
	}
}

// A key that the configured scheme cannot carry is refused with its id.
func TestSchemeRefusesUnsendableKeys(t *testing.T) {
	kr := Keyring{Keys: []Key{{ID: "bang", Key: "tg_test_key!with_a_bang_0123456789abcdef"}}}
	if err := kr.Validate(); err != nil {
		t.Fatalf("Validate: %v (a raw header may carry '!')", err)
	}
	bearer, _ := newTokenFormat("")
	if err := bearer.check(kr); err == nil || !strings.Contains(err.Error(), `key "bang"`) || strings.Contains(err.Error(), kr.Keys[0].Key) {
		t.Errorf("Bearer check = %v, want a refusal naming key \"bang\"", err)
	}
	raw, _ := newTokenFormat(SchemeNone)
	if err := raw.check(kr); err != nil {
		t.Errorf("raw check = %v, want nil", err)
	}
}

// match must agree with a plain comparison through crypto/subtle on every
// key, present or not, and find keys wherever they sit in the table.
func TestMatchAgreesWithConstantTimeCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	randomKey := func() string {
		const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/"
		b := make([]byte, 32+r.IntN(64))
		for i := range b {
			b[i] = chars[r.IntN(len(chars))]
		}
		return string(b)
	}
	for _, n := range []int{1, 2, 7, 100} {
		var kr Keyring
		for i := range n {
			kr.Keys = append(kr.Keys, Key{ID: fmt.Sprintf("k%d", i), Key: randomKey()})
		}
		table, err := newKeyTable(kr, make([]*routeLimit, n))
		if err != nil {
			t.Fatal(err)
		}
		probes := []string{randomKey(), "", "x"}
		for _, k := range kr.Keys {
			probes = append(probes, k.Key, k.Key[:len(k.Key)-1], k.Key+"x")
		}
		for _, p := range probes {
			e, ok := table.match([]byte(p))
			wantID := ""
			pd := sha256.Sum256([]byte(p))
			for _, k := range kr.Keys {
				kd := sha256.Sum256([]byte(k.Key))
				if subtle.ConstantTimeCompare(pd[:], kd[:]) == 1 {
					wantID = k.ID
				}
			}
			gotID := ""
			if ok {
				gotID = e.id
			}
			if gotID != wantID {
				t.Fatalf("n=%d: match(%.8q…) = %q, want %q", n, p, gotID, wantID)
			}
		}
	}
}

// Every client's current and previous keys are in the table, the previous
// ones ending at their until.
func TestKeyTableHoldsPreviousKeys(t *testing.T) {
	kr, limits, err := parseKeyring(fixture(t, "keyrings/current.json"))
	if err != nil {
		t.Fatal(err)
	}
	table, err := newKeyTable(kr, limits)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range table.entries {
		got = append(got, e.id+"@"+e.version)
	}
	want := "mobile-app@current mobile-app@previous orders-bot@current partner@current"
	if strings.Join(got, " ") != want {
		t.Errorf("entries = %v, want %s", got, want)
	}
	if e, ok := table.match([]byte(oldMobileKey)); !ok || e.notAfter != time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) || e.refusal != reasonKeyRotatedOut {
		t.Errorf("previous key: %+v, %v", e, ok)
	}
}

func FuzzParseKeyring(f *testing.F) {
	f.Add([]byte(`{"keys":[{"id":"a","key":"tg_test_good_key_0123456789abcdefghijklmnop","routes":["GET /x/*"],"usageKey":"tg-usage-0123456789abc"}]}`))
	f.Add([]byte("tg_test_seed_bare_string_key_0123456789abcdef"))
	f.Add([]byte(`{"keys":[{"id":"a","key":"short"}]}`))
	f.Fuzz(func(t *testing.T, secret []byte) {
		kr, err := ParseKeyring(secret)
		if err != nil {
			// The error never quotes a key the secret holds.
			var loose struct{ Keys []struct{ Key string } }
			if json.Unmarshal(secret, &loose) == nil {
				for _, k := range loose.Keys {
					if len(k.Key) >= 8 && strings.Contains(err.Error(), k.Key) {
						t.Fatalf("error %q quotes key %q", err, k.Key)
					}
				}
			}
			return
		}
		// What is accepted is valid, and survives a round trip.
		if err := kr.Validate(); err != nil {
			t.Fatalf("accepted keyring fails Validate: %v", err)
		}
		b, _ := json.Marshal(kr)
		again, err := ParseKeyring(b)
		if err != nil || len(again.Keys) != len(kr.Keys) {
			t.Fatalf("round trip of %s: %v", b, err)
		}
	})
}
