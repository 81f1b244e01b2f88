package localddb

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/keytable"
	"tollgate/internal/testkit/motoserver"
)

// The emulator answers the key table's calls as DynamoDB (moto_server)
// does: the same items found, the same not found, the same error code
// for a missing table, the same count.
func TestAnswersAsMoto(t *testing.T) {
	local := httptest.NewServer(New())
	t.Cleanup(local.Close)
	moto := motoserver.Start(t)
	until := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	items, err := authorizer.KeyItems(authorizer.Keyring{Keys: []authorizer.Key{
		{ID: "a", SHA256: authorizer.Digest("key a 0123456789abcdefghijklmnopqrst"), Routes: []string{"GET /x"}},
		{ID: "b", SHA256: authorizer.Digest("key b 0123456789abcdefghijklmnopqrst"), Disabled: true,
			Previous: []authorizer.PreviousKey{{SHA256: authorizer.Digest("old b 0123456789abcdefghijklmnopqrst"), Until: until}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		found  map[string]string
		absent bool
		code   bool
		count  int
	}
	ctx := context.Background()
	var got []outcome
	for _, url := range []string{moto.URL, local.URL} {
		c := keytable.Local(url)
		if err := keytable.Create(ctx, c, "keys"); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if err := keytable.Put(ctx, c, "keys", items); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		o := outcome{found: map[string]string{}}
		for _, it := range items {
			k, ok, err := c.GetKeyItem(ctx, "keys", it.SHA256)
			if err != nil || !ok {
				t.Fatalf("%s: %s: %v %v", url, it.ID, ok, err)
			}
			o.found[it.SHA256] = string(mustItem(t, k))
		}
		_, ok, err := c.GetKeyItem(ctx, "keys", authorizer.Digest("nobody"))
		o.absent = !ok && err == nil
		_, _, err = c.GetKeyItem(ctx, "no-such-table", authorizer.Digest("nobody"))
		o.code = authorizer.IsCode(err, "ResourceNotFoundException")
		var page struct{ Count int }
		if err := c.Call(ctx, "Scan", map[string]any{"TableName": "keys", "Select": "COUNT"}, &page); err != nil {
			t.Fatal(err)
		}
		o.count = page.Count
		got = append(got, o)
	}
	m, l := got[0], got[1]
	if !l.absent || !l.code || l.count != m.count || len(l.found) != len(m.found) || m.absent != l.absent || m.code != l.code {
		t.Errorf("moto %+v, localddb %+v", m, l)
	}
	for k, v := range m.found {
		if l.found[k] != v {
			t.Errorf("item %s: moto %s, localddb %s", k, v, l.found[k])
		}
	}
}

func mustItem(t *testing.T, k authorizer.KeyItem) []byte {
	t.Helper()
	b, err := json.Marshal(k.Item())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
