package authorizer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"tollgate/internal/testkit/dudect"
)

// The timing test runs each pair below through dudect (internal/testkit/dudect):
// the whole decision, from event bytes to answer and log line, for two
// classes of event interleaved at random, and Welch's t over the times.
//
// A pair is secret when its class is something a caller must not learn
// from the time an answer takes: how close a wrong key came to a right one,
// which stored key matched, how long the stored keys are. Those must show
// no leak. The other pairs differ in what the caller already knows (the
// length of the token it sent, whether it was let in: the answer says so)
// or in the configuration (how many keys are stored); they are measured
// and reported, and expected to differ.
//
// Environment, for go run ./verify/cmd/tollverify (defaults for CI):
//
//	TOLLGATE_TIMING_SAMPLES  measurements per run, both classes   10000
//	TOLLGATE_TIMING_RUNS     runs per pair; a leak shows in most  7
//	TOLLGATE_TIMING_SECONDS  the longest one run may take         5
//	TOLLGATE_TIMING_REPORT   a file to write every pair's runs to (JSON);
//	                         set, the public pairs are measured too

// timingKeyLength is the length of the keys the local run generates:
// "tg_" and 32 random bytes in base64url.
const timingKeyLength = 46

// timingKeys returns n distinct keys of timingKeyLength bytes, the same on
// every run, with ids of one length ("key-000" …), so that which key
// matched changes nothing in the log line's length.
func timingKeys(n int) []Key {
	rng := rand.NewChaCha8([32]byte{'t', 'i', 'm', 'i', 'n', 'g'})
	keys := make([]Key, n)
	for i := range keys {
		var b [32]byte
		_, _ = rng.Read(b[:])
		keys[i] = Key{ID: fmt.Sprintf("key-%03d", i), Key: "tg_" + base64.RawURLEncoding.EncodeToString(b[:])}
	}
	return keys
}

// timingToken returns a token of n bytes that no stored key equals,
// from the b64token alphabet.
func timingToken(n int, seed byte) string {
	rng := rand.New(rand.NewChaCha8([32]byte{'u', 'n', 'k', 'n', 'o', 'w', 'n', seed}))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// flip changes the byte at i of a key to another b64token character.
func flip(key string, i int) string {
	b := []byte(key)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// timingAuthorizer is warm, holds keys and logs JSON to io.Discard: the
// same handler and encoding as in Lambda, without the write(2) and the
// metrics.
func timingAuthorizer(tb testing.TB, keys []Key, match func(*keyTable, []byte) (*entry, bool)) *Authorizer {
	tb.Helper()
	doc, err := json.Marshal(Keyring{Keys: keys})
	if err != nil {
		tb.Fatal(err)
	}
	a, err := newAuthorizer(Config{
		Source: &stages{values: map[string][]byte{StageCurrent: doc}},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		// The metrics a line carries are the same for both inputs of
		// every pair (the same outcome and reason): through slog they
		// would add allocations, noise that weakens the planted leak's
		// detection, and nothing that could differ.
		NoMetrics: true,
	}, hooks{match: match})
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return a
}

// timingPair is two classes of input to compare.
type timingPair struct {
	name   string
	keys   int
	secret bool
	note   string
	// setup builds the operation to time; match, when not nil, replaces
	// the key comparison.
	setup func(tb testing.TB, match func(*keyTable, []byte) (*entry, bool)) dudect.Op
}

// slot holds one class's input at a time, always in the same memory, so
// that the classes differ in content only (see internal/testkit/dudect). The
// inputs it copies from sit at the same offset in pages of their own too:
// reading one class's input to copy it must evict from the CPU's caches
// what reading the other's would.
type slot[T any] struct {
	inputs [2][]T
	cur    []T
}

func newSlot[T any](tb testing.TB, inputs [2][]T) *slot[T] {
	tb.Helper()
	s := &slot[T]{cur: pageAligned[T](tb, max(len(inputs[0]), len(inputs[1])))}
	for c, in := range inputs {
		s.inputs[c] = pageAligned[T](tb, len(in))
		copy(s.inputs[c], in)
	}
	return s
}

// load readies class c's input in s.cur.
func (s *slot[T]) load(c int) { s.cur = s.cur[:copy(s.cur[:cap(s.cur)], s.inputs[c])] }

// pageAligned returns n zero Ts starting at a page boundary.
func pageAligned[T any](tb testing.TB, n int) []T {
	const page = 4096
	size := int(unsafe.Sizeof(*new(T)))
	buf := make([]T, n+2*page/size)
	for i := range buf[:page/size+1] {
		if uintptr(unsafe.Pointer(&buf[i]))%page == 0 {
			return buf[i : i+n : i+n]
		}
	}
	tb.Fatalf("no element of a %d-element buffer starts a page", len(buf))
	return nil
}

// decide times Invoke on one of two events; both answers are checked once
// first, so a pair cannot silently compare something else.
func decide(tb testing.TB, a *Authorizer, events [2][]byte, want [2]string) dudect.Op {
	tb.Helper()
	for c, ev := range events {
		out, err := a.Invoke(context.Background(), ev)
		got := "allow"
		if err != nil {
			got = err.Error()
		} else if !strings.Contains(string(out), `"Allow"`) {
			got = string(out)
		}
		if got != want[c] {
			tb.Fatalf("class %d: %.60s… is answered %q, want %q", c, ev, got, want[c])
		}
	}
	ctx := context.Background()
	in := newSlot(tb, events)
	return dudect.Op{
		Prepare: in.load,
		Run:     func() { benchSink, _ = a.Invoke(ctx, in.cur) },
	}
}

const unauthorized = "Unauthorized"

var findSink uint64

func bearer(token string) []byte { return tokenEvent("Bearer "+token, testARN) }

func timingPairs() []timingPair {
	var pairs []timingPair
	for _, n := range []int{1, 100} {
		mid := n / 2
		pairs = append(pairs,
			timingPair{
				name: "near miss (last byte off) vs far miss (first byte off)", keys: n, secret: true,
				setup: func(tb testing.TB, match func(*keyTable, []byte) (*entry, bool)) dudect.Op {
					keys := timingKeys(n)
					k := keys[mid].Key
					return decide(tb, timingAuthorizer(tb, keys, match),
						[2][]byte{bearer(flip(k, len(k)-1)), bearer(flip(k, 0))},
						[2]string{unauthorized, unauthorized})
				},
			},
			timingPair{
				name: "near miss vs far miss, REQUEST event", keys: n, secret: true,
				setup: func(tb testing.TB, match func(*keyTable, []byte) (*entry, bool)) dudect.Op {
					keys := timingKeys(n)
					k := keys[mid].Key
					var events [2][]byte
					for c, tok := range []string{flip(k, len(k)-1), flip(k, 0)} {
						events[c] = requestWith(tb, "Bearer "+tok, []string{"Bearer " + tok})
					}
					return decide(tb, timingAuthorizer(tb, keys, match), events, [2]string{unauthorized, unauthorized})
				},
			},
			timingPair{
				name: "stored keys of 46 vs 50 bytes, same unknown token", keys: n, secret: true,
				note: "the key table's digests of either keyring copied into the same memory before each measurement",
				setup: func(tb testing.TB, match func(*keyTable, []byte) (*entry, bool)) dudect.Op {
					longer := timingKeys(n)
					for i := range longer {
						longer[i].Key += "abcd"
					}
					var digests [2][][4]uint64 // by class
					var a *Authorizer
					for c, keys := range [][]Key{longer, timingKeys(n)} {
						a = timingAuthorizer(tb, keys, match)
						table, err := a.store.get(context.Background(), a.now())
						if err != nil {
							tb.Fatal(err)
						}
						digests[c] = slices.Clone(table.digests)
					}
					table, _ := a.store.get(context.Background(), a.now())
					in := newSlot(tb, digests)
					table.digests = in.cur
					op := decide(tb, a, [2][]byte{bearer(timingToken(timingKeyLength, 1)), bearer(timingToken(timingKeyLength, 1))}, [2]string{unauthorized, unauthorized})
					return dudect.Op{
						Prepare: func(class int) { in.load(class); op.Prepare(0) },
						Run:     op.Run,
					}
				},
			},
			timingPair{
				name: "key comparison alone: stored key vs unknown key of its length", keys: n, secret: true,
				note: "keyTable.find: hashing and comparing with every stored key, without the rest of the decision",
				setup: func(tb testing.TB, match func(*keyTable, []byte) (*entry, bool)) dudect.Op {
					keys := timingKeys(n)
					a := timingAuthorizer(tb, keys, match)
					table, err := a.store.get(context.Background(), a.now())
					if err != nil {
						tb.Fatal(err)
					}
					tokens := [2][]byte{[]byte(keys[mid].Key), []byte(timingToken(timingKeyLength, 3))}
					if idx, found := table.find(tokens[0]); found == 0 || idx != uint64(mid+1) {
						tb.Fatal("the stored key is not found")
					}
					if _, found := table.find(tokens[1]); found != 0 {
						tb.Fatal("the unknown key is found")
					}
					in := newSlot(tb, tokens)
					return dudect.Op{
						Prepare: in.load,
						Run:     func() { findSink, _ = table.find(in.cur) },
					}
				},
			},
			timingPair{
				name: "valid key vs unknown key of the same length", keys: n,
				note: "the answer tells the caller which: an Allow policy and a log line naming the key, or 401",
				setup: func(tb testing.TB, match func(*keyTable, []byte) (*entry, bool)) dudect.Op {
					keys := timingKeys(n)
					return decide(tb, timingAuthorizer(tb, keys, match),
						[2][]byte{bearer(keys[mid].Key), bearer(timingToken(timingKeyLength, 3))},
						[2]string{"allow", unauthorized})
				},
			},
			timingPair{
				name: "short vs long token (1 vs 1024 bytes)", keys: n,
				note: "the caller chose the length; reading and hashing take time in proportion",
				setup: func(tb testing.TB, match func(*keyTable, []byte) (*entry, bool)) dudect.Op {
					return decide(tb, timingAuthorizer(tb, timingKeys(n), match),
						[2][]byte{bearer(timingToken(1, 4)), bearer(timingToken(MaxKeyLength, 5))},
						[2]string{unauthorized, unauthorized})
				},
			},
		)
	}
	pairs = append(pairs,
		timingPair{
			name: "first vs last of the stored keys", keys: 100, secret: true,
			setup: func(tb testing.TB, match func(*keyTable, []byte) (*entry, bool)) dudect.Op {
				keys := timingKeys(100)
				return decide(tb, timingAuthorizer(tb, keys, match),
					[2][]byte{bearer(keys[0].Key), bearer(keys[99].Key)},
					[2]string{"allow", "allow"})
			},
		},
		timingPair{
			name: "1 vs 100 stored keys, unknown token", keys: 0,
			note: "every stored key is compared every time, so time grows with their number (configuration, not a caller's secret)",
			setup: func(tb testing.TB, match func(*keyTable, []byte) (*entry, bool)) dudect.Op {
				ev := bearer(timingToken(timingKeyLength, 3))
				ops := [2]dudect.Op{
					decide(tb, timingAuthorizer(tb, timingKeys(1), match), [2][]byte{ev, ev}, [2]string{unauthorized, unauthorized}),
					decide(tb, timingAuthorizer(tb, timingKeys(100), match), [2][]byte{ev, ev}, [2]string{unauthorized, unauthorized}),
				}
				var cur dudect.Op
				return dudect.Op{
					Prepare: func(class int) { cur = ops[class]; cur.Prepare(0) },
					Run:     func() { cur.Run() },
				}
			},
		},
	)
	return pairs
}

// timingSettings reads the environment described at the top of the file.
func timingSettings(t *testing.T) (cfg dudect.Config, runs int, report string) {
	t.Helper()
	num := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive whole number", name, v)
		}
		return n
	}
	cfg.Samples = num("TOLLGATE_TIMING_SAMPLES", 10_000)
	cfg.MaxDuration = time.Duration(num("TOLLGATE_TIMING_SECONDS", 5)) * time.Second
	return cfg, num("TOLLGATE_TIMING_RUNS", 7), os.Getenv("TOLLGATE_TIMING_REPORT")
}

// TimingPairResult is one pair's line in the report; tollverify reads it.
type timingPairResult struct {
	Pair   string          `json:"pair"`
	Keys   int             `json:"keys"`
	Secret bool            `json:"secret"`
	Note   string          `json:"note,omitempty"`
	Leak   bool            `json:"leak"` // |t| above the threshold in most runs
	Runs   []dudect.Result `json:"runs"`
}

// TestTiming checks that no secret pair leaks and that a planted leak is
// caught. Under the race detector, whose instrumentation makes the whole
// decision 20 to 40 times slower and drowns what is measured, it runs
// itself again in a go test without it.
func TestTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing runs for seconds")
	}
	if raceEnabled && os.Getenv(timingChildEnv) == "" {
		timingWithoutRace(t)
		return
	}
	cfg, runs, report := timingSettings(t)
	t.Run("pairs", func(t *testing.T) {
		var results []timingPairResult
		for _, p := range timingPairs() {
			if !p.secret && report == "" {
				continue
			}
			rs := dudect.Repeat(cfg, runs, func() dudect.Op { return p.setup(t, nil) })
			r := timingPairResult{Pair: p.name, Keys: p.keys, Secret: p.secret, Note: p.note, Leak: dudect.Consistent(rs), Runs: rs}
			results = append(results, r)
			t.Logf("%s, %d keys: %s", p.name, p.keys, describeRuns(rs))
			if p.secret && r.Leak {
				t.Errorf("%s, %d keys: the time depends on the class: %s", p.name, p.keys, describeRuns(rs))
			}
		}
		if report != "" {
			b, err := json.MarshalIndent(results, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(report, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	// The same pairs with the comparison swapped for a leaky one must be
	// caught: proof that the test can fail.
	t.Run("planted leak", func(t *testing.T) {
		// Four times the measurements: with one key, the planted leak is a
		// few nanoseconds in the microseconds of a REQUEST event, and
		// |t| grows with the square root of the measurements, so that it
		// is caught in most runs even on a loaded machine.
		cfg := cfg
		cfg.Samples *= 4
		for _, p := range timingPairs() {
			if !strings.HasPrefix(p.name, "near miss") {
				continue
			}
			rs := dudect.Repeat(cfg, runs, func() dudect.Op { return p.setup(t, leakyMatch(timingKeys(p.keys))) })
			t.Logf("%s, %d keys, leaky comparison: %s", p.name, p.keys, describeRuns(rs))
			if !dudect.Consistent(rs) {
				t.Errorf("%s, %d keys: a byte-by-byte comparison with an early exit went unnoticed: %s", p.name, p.keys, describeRuns(rs))
			}
		}
	})
}

const timingChildEnv = "TOLLGATE_TIMING_CHILD"

// timingWithoutRace runs TestTiming in go test without the race detector.
func timingWithoutRace(t *testing.T) {
	var flags []string // GOFLAGS without -race
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if f != "-race" && f != "-race=true" {
			flags = append(flags, f)
		}
	}
	cmd := exec.Command("go", "test", "-count=1", "-v", "-run", "^TestTiming$", ".")
	cmd.Env = append(os.Environ(), timingChildEnv+"=1", "GOFLAGS="+strings.Join(flags, " "))
	out, err := cmd.CombinedOutput()
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, "timing_test.go") || strings.HasPrefix(strings.TrimSpace(line), "---") {
			t.Log(strings.TrimSpace(line))
		}
	}
	if err != nil {
		t.Fatalf("go test -run TestTiming without the race detector: %v\n%s", err, out)
	}
}

func describeRuns(rs []dudect.Result) string {
	var b strings.Builder
	b.WriteString("|t| =")
	for i, r := range rs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %.2f", r.T)
	}
	if len(rs) > 0 {
		fmt.Fprintf(&b, " (%d measurements a run; means %.0f / %.0f ns)", rs[0].N[0]+rs[0].N[1], rs[0].MeanNs[0], rs[0].MeanNs[1])
	}
	return b.String()
}

// leakyMatch compares the token with each stored key byte by byte and
// stops at the first difference: the textbook timing leak, planted to show
// that the timing test catches one through the noise of a whole decision.
func leakyMatch(keys []Key) func(*keyTable, []byte) (*entry, bool) {
	return func(t *keyTable, token []byte) (*entry, bool) {
		for i, k := range keys {
			if len(token) != len(k.Key) {
				continue
			}
			equal := true
			for j := range token {
				if token[j] != k.Key[j] {
					equal = false
					break
				}
			}
			if equal {
				return t.entries[i], true
			}
		}
		return nil, false
	}
}
