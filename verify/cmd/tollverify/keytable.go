package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/emulator/localddb"
	"tollgate/verify"
)

// The key table under load (issue 32): the local gateway with -keystore
// dynamodb reading a table of tableLoadKeys keys, each key sent once.

const (
	tableLoadKeys    = 100_000
	tableLoadUnknown = 1_000
	// tableLoadScanned bounds the keys the log scan looks for: a sample,
	// since every window of every key would be millions of entries.
	tableLoadScanned = 5_000
)

// keyTableLoad runs bin (cmd/local) against a table of tableLoadKeys keys
// at a DynamoDB endpoint in this process (internal/emulator/localddb),
// with the result cache off, and sends every key once, shuffled, from a
// worker process: each request is an authorizer decision and each a key
// the authorizer has not seen, so a GetItem. 1 % of the clients are
// disabled (401), 10 % limited to GET /customers (403 on GET /hello), the
// rest allowed (200 naming the client), and unknown well-formed keys
// refused (401). None may be answered wrongly.
func keyTableLoad(ctx context.Context, root, bin, dir string, o options, b *strings.Builder) bool {
	rng := rand.New(rand.NewPCG(32, 100_000))
	ddb := localddb.New()
	srv := httptest.NewServer(ddb)
	defer srv.Close()
	var targets []verify.Target
	var items []authorizer.KeyItem
	var scanned []string
	for i := range tableLoadKeys {
		key := authorizer.NewKey()
		id := fmt.Sprintf("client-%06d", i)
		it := authorizer.KeyItem{SHA256: authorizer.Digest(key), ID: id}
		tg := verify.Target{Name: "a client's key", Method: "GET", Path: "/hello", Token: "Bearer " + key, Status: 200, Principal: id}
		switch {
		case i%100 == 0:
			it.Disabled = true
			tg.Name, tg.Status, tg.Principal = "a disabled client's key", 401, ""
		case i%10 == 1:
			it.Routes = []string{"GET /customers"}
			tg.Name, tg.Status, tg.Principal = "a key limited to GET /customers, on GET /hello", 403, ""
		}
		items = append(items, it)
		targets = append(targets, tg)
		if len(scanned) < tableLoadScanned {
			scanned = append(scanned, key)
		}
	}
	for range tableLoadUnknown {
		targets = append(targets, verify.Target{Name: "an unknown key", Method: "GET", Path: "/hello", Token: "Bearer " + authorizer.NewKey(), Status: 401})
	}
	rng.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	ddb.Put("tollgate-verify-keys", items...)

	fmt.Fprintf(b, "\n## Load: a key table of %d keys\n\nThe local gateway with `-keystore dynamodb`: the same binaries, the authorizer reading a key table of %d keys at a DynamoDB endpoint on loopback (`internal/emulator/localddb`, microseconds where DynamoDB takes milliseconds), the result cache off. A second process sends each key once, shuffled, at %d concurrent connections, with %d unknown well-formed keys among them: every request is an authorizer decision for a key it has not cached, so one GetItem. 1 %% of the clients are disabled (401), 10 %% limited to `GET /customers` (403 on `GET /hello`), the rest allowed (200 naming the client). Log lines are scanned for %d of the keys.\n\n",
		tableLoadKeys, tableLoadKeys, o.loadConcurrency, tableLoadUnknown, tableLoadScanned)
	fmt.Fprintln(b, "| requests | distinct keys | req/s | p50 | p99 | max | wrong | 5xx | GetItem calls | memory at 25 / 50 / 75 / 100 % | mean per authorizer instance | log lines scanned | key bytes in logs |")
	fmt.Fprintln(b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	args := []string{"-keystore", "dynamodb", "-dynamodb-endpoint", srv.URL, "-key-table", "tollgate-verify-keys", "-ttl", "0"}
	plan := workerPlan{Targets: targets, Concurrency: o.loadConcurrency, Duration: 15 * time.Minute, MaxRequests: len(targets)}
	calls := ddb.GetItems.Load()
	r, mem, lines, leaks, err := loadOnce(ctx, root, bin, args, filepath.Join(dir, "keytable.log"), plan, scanned)
	if err != nil {
		fmt.Fprintf(b, "| %v |\n", err)
		return false
	}
	var ms []string
	for _, m := range mem.quarters {
		ms = append(ms, megabytes(m.Total()))
	}
	perInstance := "-"
	if len(mem.quarters) > 0 {
		end := mem.quarters[len(mem.quarters)-1]
		var sum, n int64
		for _, p := range end.Procs {
			if filepath.Base(filepath.Dir(p.Exe)) == "authorizer" {
				sum, n = sum+p.RSS, n+1
			}
		}
		if n > 0 {
			perInstance = fmt.Sprintf("%s MB (%d instances)", megabytes(sum/n), n)
		}
	}
	getItems := ddb.GetItems.Load() - calls
	fmt.Fprintf(b, "| %d | %d | %.0f | %s | %s | %s | %d | %d | %d | %s MB | %s | %d | %d |\n", r.Requests, len(targets), r.RPS,
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(time.Millisecond), r.Wrong, r.Unexpected5xx,
		getItems, strings.Join(ms, " / "), perInstance, lines, len(leaks))
	ok := r.Requests == len(targets) && r.Wrong == 0 && r.Unexpected5xx == 0 && len(leaks) == 0
	if !ok {
		fmt.Fprintf(b, "\n**The key table's load: %d of %d requests, %d wrong, %d 5xx, %d key leaks.**\n", r.Requests, len(targets), r.Wrong, r.Unexpected5xx, len(leaks))
		for _, e := range r.Examples {
			fmt.Fprintf(b, "- %s\n", e)
		}
	}
	return ok
}

// keyTableStep is the step keytable: cmd/local built, then keyTableLoad.
func keyTableStep(ctx context.Context, root string, o options, b *strings.Builder) bool {
	dir, err := os.MkdirTemp("", "tollverify-keytable")
	if err != nil {
		fmt.Fprintf(b, "keytable: %v\n", err)
		return false
	}
	defer func() { _ = os.RemoveAll(dir) }()
	bin := filepath.Join(dir, "tollgate-local")
	if out, err := goCmd(ctx, root, nil, "build", "-o", bin, "./cmd/local/internal/local"); err != nil {
		fmt.Fprintf(b, "keytable: building cmd/local: %v\n%s\n", err, out)
		return false
	}
	return keyTableLoad(ctx, root, bin, dir, o, b)
}
