package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"tollgate/internal/testkit/testkeys"
)

// benchSink and benchCount keep results alive so the compiler cannot
// drop the work.
var (
	benchSink  []byte
	benchCount int
)

// keyringOf returns a keyring of n keys whose first is mobileKey and,
// when n > 1, whose second is ordersKey, limited to the orders routes.
func keyringOf(n int) []byte {
	keys := []testkeys.Key{{ID: "mobile-app", Key: mobileKey}}
	if n > 1 {
		keys = append(keys, testkeys.Key{ID: "orders-bot", Key: ordersKey, Routes: []string{"GET /orders", "POST /orders"}},
			// A client on a usage plan: its answer names its API key
			// (usageIdentifierKey).
			testkeys.Key{ID: "partner", Key: partnerKey, UsageKey: partnerUsage})
	}
	return testkeys.Keyring(n, keys...)
}

// benchAuthorizer is loaded, warm, and logs JSON to io.Discard: the same
// handler and encoding as in Lambda, without the write(2) to stdout.
func benchAuthorizer(b *testing.B, keys int) *Authorizer {
	b.Helper()
	a, err := New(Config{
		Source: &stages{values: map[string][]byte{StageCurrent: keyringOf(keys)}},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	return a
}

// compactFixture is a fixture as API Gateway sends it: compact JSON.
func compactFixture(b *testing.B, name string) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, fixture(b, name)); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkInvoke measures a warm decision from event bytes to answer
// bytes. tollgate/bench measures the same beside the peers users would
// pick instead, cold and warm.
func BenchmarkInvoke(b *testing.B) {
	request := compactFixture(b, "events/request.json")
	httpV2 := compactFixture(b, "events/http-v2.json")
	token := tokenEvent("Bearer "+mobileKey, testARN)
	for _, keys := range []int{1, 100} {
		for _, bc := range []struct {
			name  string
			event []byte
		}{
			{"TOKEN/valid", token},
			{"TOKEN/invalid", tokenEvent("Bearer "+unknownKey, testARN)},
			{"REQUEST/valid", request},
			{"HTTP/valid", httpV2},
			// A route-scoped key off its routes: an Allow on its routes
			// and an explicit Deny of this method ARN, rendered for each
			// request (keys=100 only: keys=1 has no scoped key).
			{"TOKEN/off-route", tokenEvent("Bearer "+ordersKey, testARN)},
			// A key on a usage plan: its answer carries its usage key
			// (keys=100 only).
			{"TOKEN/usage-key", tokenEvent("Bearer "+partnerKey, testARN)},
		} {
			if (bc.name == "TOKEN/off-route" || bc.name == "TOKEN/usage-key") && keys == 1 {
				continue
			}
			b.Run(fmt.Sprintf("%s/keys=%d", bc.name, keys), func(b *testing.B) {
				a := benchAuthorizer(b, keys)
				ctx := context.Background()
				b.ReportAllocs()
				b.SetBytes(int64(len(bc.event)))
				for b.Loop() {
					benchSink, _ = a.Invoke(ctx, bc.event)
				}
			})
		}
	}
}

// BenchmarkScanFloor is the least any validating reader of an event must
// do: one table look-up per byte. It is the floor the REQUEST decision is
// judged against on a given machine.
func BenchmarkScanFloor(b *testing.B) {
	request := compactFixture(b, "events/request.json")
	b.SetBytes(int64(len(request)))
	var n int
	for b.Loop() {
		for _, c := range request {
			if strPlain[c] {
				n++
			}
		}
	}
	benchCount = n
}
