package keytable

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/testkit/motoserver"
)

// OnMoto is a client of moto's DynamoDB with a new, empty key table.
func onMoto(t *testing.T, table string) *authorizer.DynamoDBClient {
	t.Helper()
	moto := motoserver.Start(t)
	c := Local(moto.URL)
	if err := Create(context.Background(), c, table); err != nil {
		t.Fatal(err)
	}
	return c
}

// A keyring written to the table reads back as the same keyring (a plain
// key as its digest); a client's items are one Query, current key first.
func TestKeyringRoundTripsThroughTheTable(t *testing.T) {
	c := onMoto(t, "keys")
	ctx := context.Background()
	until := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	expires := until.Add(-time.Hour)
	kr := authorizer.Keyring{Keys: []authorizer.Key{
		{ID: "a-client", SHA256: authorizer.Digest("key a 0123456789abcdefghijklmnopqrst"), Routes: []string{"GET /orders/*"}},
		{ID: "b-client", Key: "key_b_0123456789abcdefghijklmnopqrst", Expires: &expires, Disabled: true,
			Previous: []authorizer.PreviousKey{{SHA256: authorizer.Digest("old b 0123456789abcdefghijklmnopqrst"), Until: until}}},
	}}
	items, err := authorizer.KeyItems(kr)
	if err != nil {
		t.Fatal(err)
	}
	if err := Put(ctx, c, "keys", items); err != nil {
		t.Fatal(err)
	}
	all, err := All(ctx, c, "keys")
	if err != nil {
		t.Fatal(err)
	}
	back, err := Keyring(all)
	if err != nil {
		t.Fatal(err)
	}
	want := kr.ToDigests()
	if got, wantS := mustJSON(t, back), mustJSON(t, want); got != wantS {
		t.Errorf("read back\n%s\nwant\n%s", got, wantS)
	}
	b, err := Client(ctx, c, "keys", "b-client")
	if err != nil || len(b) != 2 || !b[0].Until.IsZero() || !b[1].Until.Equal(until) {
		t.Fatalf("b-client's items: %+v %v", b, err)
	}
}

// Replace is one transaction, refused whole when the table changed under
// it: a put of a digest that appeared meanwhile, a delete of one gone.
func TestReplaceIsConditional(t *testing.T) {
	c := onMoto(t, "keys")
	ctx := context.Background()
	one := authorizer.KeyItem{SHA256: authorizer.Digest("one 0123456789abcdefghijklmnopqrstuvwx"), ID: "c"}
	two := authorizer.KeyItem{SHA256: authorizer.Digest("two 0123456789abcdefghijklmnopqrstuvwx"), ID: "c"}
	if err := Replace(ctx, c, "keys", nil, []authorizer.KeyItem{one}); err != nil {
		t.Fatal(err)
	}
	if err := Replace(ctx, c, "keys", nil, []authorizer.KeyItem{one}); !errors.Is(err, ErrChanged) {
		t.Errorf("creating an existing item: %v", err)
	}
	if err := Replace(ctx, c, "keys", []authorizer.KeyItem{two}, []authorizer.KeyItem{one}); !errors.Is(err, ErrChanged) {
		t.Errorf("deleting an absent item: %v", err)
	}
	if err := Replace(ctx, c, "keys", []authorizer.KeyItem{one}, []authorizer.KeyItem{two}); err != nil {
		t.Fatal(err)
	}
	items, err := Client(ctx, c, "keys", "c")
	if err != nil || len(items) != 1 || items[0].SHA256 != two.SHA256 {
		t.Errorf("after the replace: %+v %v", items, err)
	}
}

// A table Keyring cannot read as a keyring says which client and why.
func TestKeyringRefusesAmbiguousClients(t *testing.T) {
	cur := authorizer.KeyItem{SHA256: "aa", ID: "x"}
	prev := authorizer.KeyItem{SHA256: "bb", ID: "x", Until: time.Now()}
	for name, items := range map[string][]authorizer.KeyItem{
		"two current keys": {cur, {SHA256: "cc", ID: "x"}},
		"no current key":   {prev},
	} {
		if _, err := Keyring(items); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
