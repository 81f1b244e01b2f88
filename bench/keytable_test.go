package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"tollgate/authorizer"
	"tollgate/internal/emulator/lambdalocal"
	"tollgate/internal/emulator/localaws"
	"tollgate/internal/emulator/localddb"
)

// The key stores side by side (issue 32): a key table of TableKeys keys
// at a DynamoDB endpoint on loopback (internal/emulator/localddb, which
// answers in microseconds where DynamoDB takes single-digit
// milliseconds: the figures are tollgate's own work), beside the keyring
// at its largest, as many clients as one secret holds
// (authorizer.MaxKeyringBytes), from a Secrets Manager on loopback.
// Figures are named KeyStore/..., implementations tollgate (the keyring)
// and tollgate-table.

// TableKeys is the key table's size in these figures.
const TableKeys = 100_000

const tableName = "tollgate-bench-keys"

// keyTable is a table of TableKeys keys, key (the fixtures') the first,
// served on loopback, and the other keys, made once per test binary.
type keyTable struct {
	ddb  *localddb.Server
	url  string
	keys []string // keys[0] == key
}

var (
	tableOnce sync.Once
	tableKeys []string
	tableSrv  *localddb.Server
)

func startKeyTable(tb testing.TB) *keyTable {
	tb.Helper()
	tableOnce.Do(func() {
		tableSrv = localddb.New()
		tableKeys = make([]string, TableKeys)
		items := make([]authorizer.KeyItem, TableKeys)
		for i := range tableKeys {
			k := key
			if i > 0 {
				k = authorizer.NewKey()
			}
			tableKeys[i] = k
			items[i] = authorizer.KeyItem{SHA256: authorizer.Digest(k), ID: fmt.Sprintf("client-%06d", i)}
		}
		items[0].ID = keyID
		tableSrv.Put(tableName, items...)
	})
	srv := httptest.NewServer(tableSrv)
	tb.Cleanup(srv.Close)
	return &keyTable{ddb: tableSrv, url: srv.URL, keys: tableKeys}
}

// env is a function's environment reading the table, as a stack with
// keyStore: dynamodb sets it.
func (t *keyTable) env(tb testing.TB) map[string]string {
	env := (&endpoint{}).env(tb)
	delete(env, authorizer.EnvSecretID)
	delete(env, authorizer.EnvAWSEndpoint)
	env[authorizer.EnvKeyTable] = tableName
	env[authorizer.EnvAWSEndpointDynamoDB] = t.url
	return env
}

// newTableTollgate is newTollgate reading the table: maxCached bounds
// its cache (0: the default, DefaultMaxCached). A fresh one opens a
// connection of its own for each call, as a cold Lambda does for its
// first.
func newTableTollgate(tb testing.TB, t *keyTable, maxCached int, fresh bool) *authorizer.Authorizer {
	tb.Helper()
	env := t.env(tb)
	_, cfg, err := authorizer.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatal(err)
	}
	cfg.KeyTable.Client = authorizer.NewDynamoDBClient(t.url, localaws.Region, aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench"},
		&http.Client{Transport: &http.Transport{DisableKeepAlives: fresh}})
	cfg.KeyTable.MaxCached = maxCached
	return newLogging(tb, cfg, logPipe(tb))
}

// largestKeyring is the keyring of as many clients (digests, 11-character
// ids) as one secret holds, key the first.
func largestKeyring(tb testing.TB) ([]byte, int) {
	tb.Helper()
	kr := authorizer.Keyring{Keys: []authorizer.Key{{ID: keyID, Key: key}}}
	var doc []byte
	for i := 1; ; i++ {
		next := append(kr.Keys, authorizer.Key{ID: fmt.Sprintf("client-%04d", i), SHA256: authorizer.Digest(fmt.Sprint(i))})
		b, err := json.Marshal(authorizer.Keyring{Keys: next})
		if err != nil {
			tb.Fatal(err)
		}
		if authorizer.CheckKeyringSize(len(b), len(next)) != nil {
			return doc, len(kr.Keys)
		}
		kr.Keys, doc = next, b
	}
}

// tokenEvents are TOKEN events, one per key, for the keys' decisions.
func tokenEvents(tb testing.TB, keys []string) [][]byte {
	ev := event(tb, "token", true)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = bytes.Replace(ev, []byte(key), []byte(k), 1)
	}
	return out
}

// BenchmarkKeyStore: a warm decision, a cold one in process and in a
// fresh bootstrap, and the heap the keys take, for the keyring at its
// largest and for a table of TableKeys keys. Warm/cached is one key again
// and again; Warm/uncached a key not in the authorizer's cache at each
// op (the table: one GetItem each, the cache bounded to one entry so
// that the keys cycle through it; the keyring holds every key).
func BenchmarkKeyStore(b *testing.B) {
	doc, clients := largestKeyring(b)
	ep := serveKeyring(b, doc, true)
	table := startKeyTable(b)
	b.Logf("keyring: %d clients, %d bytes; table: %d keys", clients, len(doc), TableKeys)

	b.Run("Warm/TOKEN/cached/tollgate", func(b *testing.B) {
		a := newDeployedTollgate(b, ep.env(b), logPipe(b))
		warm(b, a, [][]byte{event(b, "token", true)}, nil)
	})
	b.Run("Warm/TOKEN/cached/tollgate-table", func(b *testing.B) {
		warm(b, deployed(b, newTableTollgate(b, table, 0, false)), [][]byte{event(b, "token", true)}, table.ddb)
	})
	// The keyring has no uncached case: every key is in memory.
	b.Run("Warm/TOKEN/uncached/tollgate-table", func(b *testing.B) {
		warm(b, deployed(b, newTableTollgate(b, table, 1, false)), tokenEvents(b, table.keys[:1024]), table.ddb)
	})
	// Cold: a new connection for each fresh authorizer.
	epCold := serveKeyring(b, doc, false)
	b.Run("ColdInProcess/TOKEN/tollgate", func(b *testing.B) {
		cold(b, func() *authorizer.Authorizer { return newTollgate(b, epCold.env(b), logPipe(b)) })
	})
	b.Run("ColdInProcess/TOKEN/tollgate-table", func(b *testing.B) {
		cold(b, func() *authorizer.Authorizer { return newTableTollgate(b, table, 0, true) })
	})
	ev := event(b, "token", true)
	b.Run("ColdProcess/TOKEN/tollgate", func(b *testing.B) {
		env := epCold.env(b)
		coldStarts(b, "tollgate", ev, func(report func(lambdalocal.Report)) *lambdalocal.Pool {
			return newPool(b, "tollgate", env, report)
		})
	})
	b.Run("ColdProcess/TOKEN/tollgate-table", func(b *testing.B) {
		env := table.env(b)
		coldStarts(b, "tollgate", ev, func(report func(lambdalocal.Report)) *lambdalocal.Pool {
			return newPool(b, "tollgate", env, report)
		})
	})
	// Heap: the keyring's keys loaded; the table's after decisions for
	// twice as many of its keys as it caches (DefaultMaxCached): its cache
	// full, evicting, at its bound.
	b.Run("Memory/tollgate", func(b *testing.B) {
		heapOf(b, func() *authorizer.Authorizer {
			a := newTollgate(b, ep.env(b), logPipe(b))
			if err := a.Load(context.Background()); err != nil {
				b.Fatal(err)
			}
			return a
		})
	})
	b.Run("Memory/tollgate-table", func(b *testing.B) {
		events := tokenEvents(b, table.keys[:2*authorizer.DefaultMaxCached])
		heapOf(b, func() *authorizer.Authorizer {
			a := newTableTollgate(b, table, 0, false)
			for _, ev := range events {
				if out, err := a.Invoke(context.Background(), ev); !allows(out, err) {
					b.Fatalf("a key of the table: %s %v", out, err)
				}
			}
			return a
		})
	})
}

// warm times decisions of events in turn by a, each checked first to
// allow; with ddb, it reports the GetItem calls per decision.
func warm(b *testing.B, a *authorizer.Authorizer, events [][]byte, ddb *localddb.Server) {
	ctx := context.Background()
	for _, ev := range events[:min(len(events), 8)] {
		if out, err := a.Invoke(ctx, ev); !allows(out, err) {
			b.Fatalf("decided %s %v, want an Allow", out, err)
		}
	}
	var calls int64
	if ddb != nil {
		calls = ddb.GetItems.Load()
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sink, _ = a.Invoke(ctx, events[i%len(events)])
		i++
	}
	if ddb != nil {
		b.ReportMetric(float64(ddb.GetItems.Load()-calls)/float64(b.N), "ddb-calls/op")
	}
}

// cold times a fresh authorizer's first decision: its keys loaded (the
// keyring's fetch; the table's GetItem of the one key) and the decision.
func cold(b *testing.B, fresh func() *authorizer.Authorizer) {
	ctx := context.Background()
	ev := event(b, "token", true)
	b.ReportAllocs()
	for b.Loop() {
		a := fresh()
		if got := decision(a.Invoke(ctx, ev)); got != "allow" {
			b.Fatalf("decided %s, want allow", got)
		}
	}
}

// heapOf reports the live heap the authorizer made takes (heap-bytes/op).
func heapOf(b *testing.B, make func() *authorizer.Authorizer) {
	var total uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a := make()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(a)
		total += after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc)
	}
	b.ReportMetric(float64(total)/float64(b.N), "heap-bytes/op")
}

// allows says whether a REST answer allows, for any principal.
func allows(out []byte, err error) bool {
	var answer struct {
		PrincipalID    string `json:"principalId"`
		PolicyDocument struct{ Statement []struct{ Effect string } }
	}
	if err != nil || json.Unmarshal(out, &answer) != nil || answer.PrincipalID == "" || len(answer.PolicyDocument.Statement) == 0 {
		return false
	}
	return answer.PolicyDocument.Statement[0].Effect == "Allow"
}
