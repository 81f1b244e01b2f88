package authorizer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"tollgate/internal/testkit/property"
)

// The keyring's promises, on both stores: for a generated keyring
// (clients with route limits or none, expiries past and future, disabled
// clients, rotated-out keys within their grace and past it, a grace the
// client's expiry cuts), and generated requests (every current and
// previous key, unknown well-formed keys, malformed tokens, on routes
// inside and outside each limit), an authorizer reading the keyring from
// a secret and one reading the same keys from a key table (its items,
// KeyItems) give the same answer to every request: the same policy, the
// same principal and context, the same refusal. What the keyring's
// invariant and example tests hold of the secret so holds of the table,
// request for request; TestTableStoreRemovalBound holds the table's
// revocation bound over generated schedules.
func TestInvariantTableAnswersAsTheKeyring(t *testing.T) {
	property.Run(t, "the table answers as the keyring", 150, func(t *testing.T, rng *rand.Rand, counts *property.Counts) {
		now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(1000)) * time.Second)
		clock := func() time.Time { return now }
		kr, tokens := generatedKeyring(rng, now)
		doc, err := json.Marshal(kr)
		if err != nil {
			t.Fatal(err)
		}
		logs := &logBuffer{}
		logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		fromSecret, _ := newTestAuthorizerAt(t, clock, Config{Logger: logger}, SourceFunc(func(context.Context, string) ([]byte, error) { return doc, nil }))

		items, err := KeyItems(kr)
		if err != nil {
			t.Fatalf("KeyItems of a valid keyring: %v", err)
		}
		table := &fakeTable{items: map[string]KeyItem{}}
		for _, it := range items {
			table.items[it.SHA256] = it
		}
		fromTable, err := newAuthorizer(Config{
			KeyTable: &KeyTable{Name: "keys", Client: NewDynamoDBClient("http://127.0.0.1:1", "us-east-1", aws.Credentials{}, http.DefaultClient)},
			Logger:   logger,
		}, hooks{now: clock})
		if err != nil {
			t.Fatal(err)
		}
		fromTable.table.get = table

		methods := []string{"GET", "POST", "DELETE"}
		paths := []string{"hello", "orders", "orders/17", "orders/17/items", "admin/users"}
		for range 40 {
			token := tokens[rng.IntN(len(tokens))]
			arn := testPrefix + methods[rng.IntN(len(methods))] + "/" + paths[rng.IntN(len(paths))]
			ev := tokenEvent("Bearer "+token.value, arn)
			want, wantErr := fromSecret.Invoke(context.Background(), ev)
			got, gotErr := fromTable.Invoke(context.Background(), ev)
			if string(got) != string(want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("%s on %s:\n  keyring: %s %v\n  table:   %s %v\nkeyring: %s", token.kind, arn, want, wantErr, got, gotErr, doc)
			}
			outcome := "refused"
			if wantErr == nil && answerAllows(t, want, arn) {
				outcome = "allowed"
			}
			counts.Add(token.kind+" "+outcome, 1)
		}
		var values []string
		for _, tok := range tokens {
			values = append(values, tok.value)
		}
		assertNoKeysLogged(t, logs.String(), values[:len(values)-1]...)
	})
}

// answerAllows decodes a REST answer and says whether it allows arn.
func answerAllows(t *testing.T, out []byte, arn string) bool {
	t.Helper()
	return decodeAnswer(t, out).allows(arn)
}

type generatedToken struct{ value, kind string }

// generatedKeyring draws a valid keyring and the tokens to present.
func generatedKeyring(rng *rand.Rand, now time.Time) (Keyring, []generatedToken) {
	routeSets := [][]string{nil, {"GET /hello"}, {"POST /orders", "GET /orders/*"}, {"ANY /admin/*"}, {"GET /orders/*/items"}}
	var kr Keyring
	var tokens []generatedToken
	for i := range 1 + rng.IntN(5) {
		key := NewKey()
		k := Key{ID: fmt.Sprintf("client-%d", i), SHA256: Digest(key), Routes: routeSets[rng.IntN(len(routeSets))]}
		if rng.IntN(2) == 0 {
			k.Key, k.SHA256 = key, "" // a plain key: stored as its digest in the table
		}
		kind := "current"
		switch rng.IntN(4) {
		case 0:
			e := now.Add(-time.Duration(1+rng.IntN(3600)) * time.Second)
			k.Expires, kind = &e, "expired"
		case 1:
			e := now.Add(time.Duration(1+rng.IntN(3600)) * time.Second)
			k.Expires = &e
		}
		if rng.IntN(5) == 0 {
			k.Disabled, kind = true, "disabled"
		}
		tokens = append(tokens, generatedToken{key, kind})
		for range rng.IntN(3) {
			old := NewKey()
			until := now.Add(time.Duration(rng.IntN(7200)-3600) * time.Second).Truncate(time.Second)
			k.Previous = append(k.Previous, PreviousKey{SHA256: Digest(old), Until: until})
			tokens = append(tokens, generatedToken{old, "previous"})
		}
		kr.Keys = append(kr.Keys, k)
	}
	tokens = append(tokens, generatedToken{NewKey(), "unknown"}, generatedToken{"not-a-key", "malformed"})
	return kr, tokens
}
