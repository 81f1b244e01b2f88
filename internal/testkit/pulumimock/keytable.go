package pulumimock

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// The rules of the key table (deploy/keytable.go): a DynamoDB table and
// its items.

const (
	srcTable     = "tf internal/service/dynamodb/table.go"
	srcTableItem = "tf internal/service/dynamodb/table_item.go"
	srcTableSDK  = "sdk dynamodb/table.go"
	// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html:
	// TableName, 3 to 255 of [a-zA-Z0-9_.-].
	srcTableName = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html: TableName, pattern [a-zA-Z0-9_.-]+, 3 to 255"
	// SrcDeletionProtection is why a protected table cannot be deleted
	// (Undeletable).
	SrcDeletionProtection = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection"
)

func init() {
	Provider["aws:dynamodb/table:Table"] = TypeRules{
		Replace: []string{"name", "hashKey", "rangeKey", "localSecondaryIndexes"}, ReplaceSource: srcTable + ": name, hash_key, range_key and local_secondary_index ForceNew",
		Identity: []string{"name"},
		Rules: []Rule{
			{Prop: "name", Required: true, Check: match(`^[a-zA-Z0-9_.-]+$`, 3, 255), Source: srcTableName},
			{Prop: "hashKey", Required: true, Source: srcTableSDK + " hashKey: \"Must also be defined as an attribute\"; CreateTable needs a KeySchema"},
			{Prop: "billingMode", Check: oneOf("PROVISIONED", "PAY_PER_REQUEST"), Source: srcTable + ": billing_mode StringInSlice(BillingMode_Values()), default PROVISIONED"},
		},
		Whole: []WholeRule{
			{Name: "attributes", Check: tableAttributes, Source: srcTable + ": validateTableAttributes (every attribute is a key of the table or an index, every key an attribute); attribute type StringInSlice(B, N, S)"},
			{Name: "capacity", Check: tableCapacity, Source: srcTableSDK + " readCapacity: \"If the billingMode is PROVISIONED, this field is required\""},
		},
	}
	Provider["aws:dynamodb/tableItem:TableItem"] = TypeRules{
		Replace: []string{"tableName", "hashKey", "rangeKey"}, ReplaceSource: srcTableItem + ": table_name, hash_key and range_key ForceNew (a changed key in item is an update: UpdateItem of the new key, DeleteItem of the old)",
		Rules: []Rule{
			{Prop: "tableName", Required: true, Source: srcTableItem + ": table_name Required"},
			{Prop: "hashKey", Required: true, Source: srcTableItem + ": hash_key Required"},
			{Prop: "item", Required: true, Check: tableItem, Source: srcTableItem + ": item Required, validateTableItem (ExpandTableItemAttributes: a JSON object of attribute values); an item is at most 400 KB (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html)"},
		},
		Whole: []WholeRule{
			{Name: "item key", Check: itemHoldsKey, Source: srcTableItem + ": BuildTableItemqueryKey reads item[hash_key], the item's key"},
		},
	}
}

// tableAttributes: the attributes are exactly the keys of the table and
// its indexes, each of type B, N or S.
func tableAttributes(in map[string]any) error {
	keys := map[string]bool{}
	add := func(v any) {
		if s, ok := v.(string); ok && s != "" {
			keys[s] = true
		}
	}
	add(in["hashKey"])
	add(in["rangeKey"])
	for _, field := range []string{"globalSecondaryIndexes", "localSecondaryIndexes"} {
		l, _ := in[field].([]any)
		for _, ix := range l {
			m, _ := ix.(map[string]any)
			add(m["hashKey"])
			add(m["rangeKey"])
		}
	}
	defined := map[string]bool{}
	l, _ := in["attributes"].([]any)
	for _, a := range l {
		m, _ := a.(map[string]any)
		name, _ := m["name"].(string)
		if t, _ := m["type"].(string); !slices.Contains([]string{"B", "N", "S"}, t) {
			return fmt.Errorf("attribute %q: type %q, want B, N or S", name, t)
		}
		if !keys[name] {
			return fmt.Errorf("all attributes must be indexed: %q is no key", name)
		}
		defined[name] = true
	}
	var missing []string
	for k := range keys {
		if !defined[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return fmt.Errorf("keys %q are not defined as attributes", missing)
	}
	return nil
}

func tableCapacity(in map[string]any) error {
	if m, _ := in["billingMode"].(string); m == "PAY_PER_REQUEST" {
		return nil
	}
	if _, ok := in["readCapacity"]; !ok {
		return errors.New("a PROVISIONED table (the default) needs readCapacity and writeCapacity")
	}
	return nil
}

// attributeValue checks one DynamoDB JSON attribute value: an object of
// exactly one type.
func attributeValue(v any) error {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return fmt.Errorf("%v is not an attribute value (one of S, N, B, BOOL, NULL, L, M, SS, NS, BS)", v)
	}
	for t, inner := range m {
		switch t {
		case "S", "N", "B":
			if _, ok := inner.(string); !ok {
				return fmt.Errorf("%s holds %v, not a string", t, inner)
			}
		case "BOOL", "NULL":
			if _, ok := inner.(bool); !ok {
				return fmt.Errorf("%s holds %v, not a boolean", t, inner)
			}
		case "L":
			l, ok := inner.([]any)
			if !ok {
				return fmt.Errorf("a list attribute (L) holds %v", inner)
			}
			for _, e := range l {
				if err := attributeValue(e); err != nil {
					return err
				}
			}
		case "M", "SS", "NS", "BS":
		default:
			return fmt.Errorf("unknown attribute type %q", t)
		}
	}
	return nil
}

func parseItem(v any) (map[string]any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%v is not a string", v)
	}
	if len(s) > 400*1024 {
		return nil, fmt.Errorf("%d bytes: an item is at most 400 KB", len(s))
	}
	var item map[string]any
	if err := json.Unmarshal([]byte(s), &item); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	return item, nil
}

func tableItem(v any) error {
	item, err := parseItem(v)
	if err != nil {
		return err
	}
	for name, a := range item {
		if err := attributeValue(a); err != nil {
			return fmt.Errorf("attribute %s: %v", name, err)
		}
	}
	return nil
}

func itemHoldsKey(in map[string]any) error {
	item, err := parseItem(in["item"])
	if err != nil {
		return nil // the item's own rule says why
	}
	key, _ := in["hashKey"].(string)
	if _, ok := item[key]; !ok {
		return fmt.Errorf("the item has no attribute %q, its hash key", key)
	}
	return nil
}

// Undeletable are the resources (by "type name") of m that AWS refuses
// to delete: a DynamoDB table with deletion protection on
// (SrcDeletionProtection), among those changes deletes or replaces, or
// every resource of m when changes is nil (pulumi destroy).
func Undeletable(m *Mocks, changes map[string]Change) []string {
	var out []string
	for key, r := range index(m) {
		if changes != nil && changes[key] != Delete && changes[key] != Replace {
			continue
		}
		if r.Type == "aws:dynamodb/table:Table" && r.Inputs["deletionProtectionEnabled"] == true {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}
