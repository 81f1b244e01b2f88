package pulumimock

import (
	"maps"
	"strings"
	"testing"
)

const goodItem = `{"sha256":{"S":"ab12"},"id":{"S":"mobile"},"routes":{"L":[{"S":"GET /x"}]},"disabled":{"BOOL":true}}`

func init() {
	maps.Copy(good, map[string]map[string]any{
		"aws:dynamodb/table:Table": {
			"name": strings.Repeat("t", 255), "billingMode": "PAY_PER_REQUEST", "hashKey": "sha256",
			"attributes":             []any{map[string]any{"name": "sha256", "type": "S"}, map[string]any{"name": "id", "type": "S"}},
			"globalSecondaryIndexes": []any{map[string]any{"name": "by-id", "hashKey": "id", "projectionType": "ALL"}},
		},
		"aws:dynamodb/tableItem:TableItem": {"tableName": "t-keys", "hashKey": "sha256", "item": goodItem},
	})
	maps.Copy(bad, map[string]map[string][]any{
		"aws:dynamodb/table:Table":         {"name": {"ab", "a b", "a/b", strings.Repeat("t", 256)}, "billingMode": {"ON_DEMAND", "pay_per_request"}},
		"aws:dynamodb/tableItem:TableItem": {"item": {"{", `[]`, `{"sha256":"ab12"}`, `{"sha256":{"S":1}}`, `{"sha256":{"X":"a"}}`, `{"l":{"L":[{"S":"a","N":"1"}]}}`}},
	})
	maps.Copy(badWhole, map[string]map[string][]func(map[string]any){
		"aws:dynamodb/table:Table": {
			"attributes": {
				func(in map[string]any) { in["hashKey"] = "digest" }, // a key that is no attribute
				func(in map[string]any) { // an attribute that is no key
					in["attributes"] = append(in["attributes"].([]any), map[string]any{"name": "routes", "type": "S"})
				},
				func(in map[string]any) { delete(in, "globalSecondaryIndexes") }, // id then indexes nothing
				func(in map[string]any) {
					in["attributes"] = []any{map[string]any{"name": "sha256", "type": "STRING"}, map[string]any{"name": "id", "type": "S"}}
				},
			},
			"capacity": {
				func(in map[string]any) { delete(in, "billingMode") }, // PROVISIONED, the default, without capacity
				func(in map[string]any) { in["billingMode"] = "PROVISIONED" },
			},
		},
		"aws:dynamodb/tableItem:TableItem": {
			"item key": {func(in map[string]any) { in["hashKey"] = "digest" }},
		},
	})
}

// A protected table is what a destroy, or a change that deletes or
// replaces it, cannot delete; an unprotected one, or a change that keeps
// it, is no obstacle.
func TestUndeletable(t *testing.T) {
	table := func(protected bool) *Mocks {
		in := deepCopy(good["aws:dynamodb/table:Table"])
		in["deletionProtectionEnabled"] = protected
		return &Mocks{Resources: []Resource{{Type: "aws:dynamodb/table:Table", Name: "keys", Inputs: in}}}
	}
	key := "aws:dynamodb/table:Table keys"
	for _, tc := range []struct {
		protected bool
		changes   map[string]Change
		want      int
	}{
		{true, nil, 1}, {false, nil, 0},
		{true, map[string]Change{key: Delete}, 1}, {true, map[string]Change{key: Replace}, 1},
		{true, map[string]Change{key: Update}, 0}, {true, map[string]Change{}, 0},
	} {
		if got := Undeletable(table(tc.protected), tc.changes); len(got) != tc.want {
			t.Errorf("protected %v, changes %v: undeletable %v", tc.protected, tc.changes, got)
		}
	}
}
