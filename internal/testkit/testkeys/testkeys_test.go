package testkeys

import (
	"encoding/json"
	"testing"
)

func TestKeyring(t *testing.T) {
	doc := Keyring(3, Key{ID: "orders-bot", Key: "tg_test_orders_bot_key_0123456789abcdefghij", Routes: []string{"GET /orders"}})
	var got struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	if len(got.Keys) != 3 {
		t.Fatalf("%d keys, want 3: %s", len(got.Keys), doc)
	}
	if got.Keys[0]["id"] != "orders-bot" || got.Keys[0]["routes"].([]any)[0] != "GET /orders" {
		t.Errorf("first entry = %v", got.Keys[0])
	}
	if got.Keys[1]["id"] != "client-001" || got.Keys[2]["id"] != "client-002" {
		t.Errorf("filler ids = %v, %v", got.Keys[1]["id"], got.Keys[2]["id"])
	}
	if _, ok := got.Keys[1]["routes"]; ok {
		t.Errorf("filler entry has routes: %v", got.Keys[1])
	}
	if got.Keys[1]["key"] == got.Keys[2]["key"] {
		t.Error("two filler clients share a key")
	}
	// n below the keys given keeps every key given.
	if err := json.Unmarshal(Keyring(0, Key{ID: "a", Key: "k"}, Key{ID: "b", Key: "l"}), &got); err != nil || len(got.Keys) != 2 {
		t.Errorf("Keyring(0, two keys) = %d keys, %v", len(got.Keys), err)
	}
}
