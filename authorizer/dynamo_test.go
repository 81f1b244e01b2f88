package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"tollgate/internal/testkit/motoserver"
)

// Issue 32: a keyring's keys as table items, written with
// PutItem and read back by digest with the authorizer's own GetItem, as
// DynamoDB (moto) answers: each key found with what the keyring holds for
// it, a rotated-out key with its grace, an unknown digest not found, no
// key byte in the table.
func TestKeyItemsRoundTripThroughDynamoDB(t *testing.T) {
	moto := motoserver.Start(t)
	ctx := context.Background()
	table := "tollgate-dev-keys"
	c := emptyKeyTable(t, moto, table)
	until := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	expires := time.Date(2098, 6, 30, 0, 0, 0, 0, time.UTC)
	kr := Keyring{Keys: []Key{
		{ID: "mobile", SHA256: Digest(mobileKey), Previous: []PreviousKey{{SHA256: Digest("the key mobile had before, 0123456789abcdef"), Until: until}}},
		{ID: "orders", Key: ordersKey, Routes: []string{"POST /orders", "GET /orders/*"}, Expires: &expires, UsageKey: strings.Repeat("u", 40)},
		{ID: "gone", SHA256: Digest("a key of a disabled client, 0123456789"), Disabled: true},
	}}
	items, err := KeyItems(kr)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 {
		t.Fatalf("%d items, want 4 (three keys and a previous one)", len(items))
	}
	for _, it := range items {
		b, _ := jsonItem(it)
		if strings.Contains(b, ordersKey) {
			t.Fatal("a key reached an item")
		}
		if err := c.Call(ctx, "PutItem", map[string]any{"TableName": table, "Item": it.Item()}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range items {
		got, ok, err := c.GetKeyItem(ctx, table, want.SHA256)
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", want.ID, ok, err)
		}
		if got.ID != want.ID || strings.Join(got.Routes, ",") != strings.Join(want.Routes, ",") || !got.Until.Equal(want.Until) ||
			!got.Expires.Equal(want.Expires) || got.Disabled != want.Disabled || got.UsageKey != want.UsageKey {
			t.Errorf("read %+v, wrote %+v", got, want)
		}
	}
	if _, ok, err := c.GetKeyItem(ctx, table, Digest(unknownKey)); ok || err != nil {
		t.Errorf("an unknown digest: found %v, %v", ok, err)
	}
	var ae *apiError
	if _, _, err := c.GetKeyItem(ctx, "no-such-table", Digest(mobileKey)); !errors.As(err, &ae) || ae.Code != "ResourceNotFoundException" {
		t.Errorf("a missing table: %v", err)
	}
}

// An item of another shape is refused, naming the attribute only.
func TestKeyItemOfRefusesOtherShapes(t *testing.T) {
	secret := "tgk_" + strings.Repeat("s", 38)
	for name, item := range map[string]map[string]Attr{
		"no id":          {"sha256": Str("ab")},
		"id not string":  {"sha256": Str("ab"), "id": {BOOL: new(bool)}},
		"bad expires":    {"sha256": Str("ab"), "id": Str("x"), "expires": Str(secret)},
		"route not text": {"sha256": Str("ab"), "id": Str("x"), "routes": {L: []Attr{{BOOL: new(bool)}}}},
		"disabled text":  {"sha256": Str("ab"), "id": Str("x"), "disabled": Str("yes")},
	} {
		if _, err := KeyItemOf(item); !errors.Is(err, errBadItem) || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func jsonItem(k KeyItem) (string, error) {
	b, err := json.Marshal(k.Item())
	return string(b), err
}

// emptyKeyTable creates table on moto, with the deployed table's key
// (internal/keytable.Create, which this package's tests cannot import,
// adds its index), and returns a client of it.
func emptyKeyTable(t *testing.T, moto *motoserver.Server, table string) *DynamoDBClient {
	t.Helper()
	c := NewDynamoDBClient(moto.URL, "us-east-1", aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, &http.Client{Timeout: 10 * time.Second})
	if err := c.Call(context.Background(), "CreateTable", map[string]any{
		"TableName": table, "BillingMode": "PAY_PER_REQUEST",
		"AttributeDefinitions": []map[string]string{{"AttributeName": "sha256", "AttributeType": "S"}},
		"KeySchema":            []map[string]string{{"AttributeName": "sha256", "KeyType": "HASH"}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// keyTableOn makes a table of kr's keys on moto.
func keyTableOn(t *testing.T, moto *motoserver.Server, table string, kr Keyring) *DynamoDBClient {
	t.Helper()
	c := emptyKeyTable(t, moto, table)
	items, err := KeyItems(kr)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := c.Call(context.Background(), "PutItem", map[string]any{"TableName": table, "Item": it.Item()}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Issue 32: an authorizer with a key table and no keyring
// decides from the table as from a keyring: a key allowed with its
// principal, a limited key denied off its routes, an unknown key 401, and
// a table it cannot read an error (it fails closed); no key is logged.
func TestAuthorizerDecidesFromTheTable(t *testing.T) {
	moto := motoserver.Start(t)
	kr := Keyring{Keys: []Key{
		{ID: "mobile-app", SHA256: Digest(mobileKey)},
		{ID: "orders-bot", SHA256: Digest(ordersKey), Routes: []string{"POST /orders"}},
	}}
	client := keyTableOn(t, moto, "keys", kr)
	logs := &logBuffer{}
	a, err := New(Config{KeyTable: &KeyTable{Name: "keys", Client: client}, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := a.Invoke(ctx, tokenEvent("Bearer "+mobileKey, testARN))
	if err != nil || decodeAnswer(t, out).PrincipalID != "mobile-app" || !decodeAnswer(t, out).allows(testARN) {
		t.Fatalf("mobile: %s %v", out, err)
	}
	out, err = a.Invoke(ctx, tokenEvent("Bearer "+ordersKey, testARN))
	if err != nil || decodeAnswer(t, out).allows(testARN) {
		t.Errorf("orders on GET /hello: %s %v, want a deny", out, err)
	}
	if _, err := a.Invoke(ctx, tokenEvent("Bearer "+unknownKey, testARN)); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("unknown key: %v, want 401", err)
	}
	broken, err := New(Config{KeyTable: &KeyTable{Name: "no-such-table", Client: client}, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := broken.Invoke(ctx, tokenEvent("Bearer "+mobileKey, testARN)); err == nil || errors.Is(err, ErrUnauthorized) {
		t.Errorf("a table it cannot read: %s %v, want an error", out, err)
	}
	assertNoKeysLogged(t, logs.String())
}

// The function's environment names the table: NewFromEnv reads keys from
// it, at AWS_ENDPOINT_URL_DYNAMODB, with no secret at all.
func TestNewFromEnvReadsTheTable(t *testing.T) {
	moto := motoserver.Start(t)
	keyTableOn(t, moto, "env-keys", Keyring{Keys: []Key{{ID: "mobile-app", SHA256: Digest(mobileKey)}}})
	env := map[string]string{
		EnvKeyTable: "env-keys", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
		"AWS_ENDPOINT_URL_DYNAMODB": moto.URL,
	}
	a, err := NewFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.Invoke(context.Background(), tokenEvent("Bearer "+mobileKey, testARN))
	if err != nil || decodeAnswer(t, out).PrincipalID != "mobile-app" {
		t.Fatalf("%s %v", out, err)
	}
	delete(env, EnvKeyTable)
	if _, err := NewFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), EnvKeyTable) {
		t.Errorf("neither a secret nor a table: %v", err)
	}
}
