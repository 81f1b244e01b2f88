// Package keytable manages a DynamoDB table of tollgate keys, the key
// store for key sets past what one secret holds (authorizer.KeyItem is
// an item; the authorizer reads the table with one GetItem per key). It
// has the calls tollkeys, the local run and the tests make: create the
// table as the deploy does, read a client's items, change them in one
// transaction, write and read a whole keyring.
//
// The table: partition key "sha256" (a key's digest, lower-case hex), and
// a global secondary index "by-id" on the client id, so that a client's
// items (its current key and the keys in their grace) are one Query.
// Calls are AWS's DynamoDB JSON API
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/),
// made with authorizer.DynamoDBClient.
package keytable

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"tollgate/authorizer"
)

// The table's schema: the deploy's table (deploy/keytable.go) has the same.
const (
	HashKey = "sha256"
	IDIndex = "by-id"
	IDAttr  = "id"
)

// Local is a client of a DynamoDB emulator at url (moto_server,
// localddb), which takes any credentials: stand-ins.
func Local(url string) *authorizer.DynamoDBClient {
	return authorizer.NewDynamoDBClient(url, "us-east-1", aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, &http.Client{Timeout: 10 * time.Second})
}

// Create creates table on demand capacity with its index, and waits until
// it is ACTIVE. For tests and the local run: the deploy creates the
// deployed one.
func Create(ctx context.Context, c *authorizer.DynamoDBClient, table string) error {
	in := map[string]any{
		"TableName":   table,
		"BillingMode": "PAY_PER_REQUEST",
		"AttributeDefinitions": []map[string]string{
			{"AttributeName": HashKey, "AttributeType": "S"}, {"AttributeName": IDAttr, "AttributeType": "S"},
		},
		"KeySchema": []map[string]string{{"AttributeName": HashKey, "KeyType": "HASH"}},
		"GlobalSecondaryIndexes": []map[string]any{{
			"IndexName":  IDIndex,
			"KeySchema":  []map[string]string{{"AttributeName": IDAttr, "KeyType": "HASH"}},
			"Projection": map[string]string{"ProjectionType": "ALL"},
		}},
	}
	if err := c.Call(ctx, "CreateTable", in, nil); err != nil {
		return err
	}
	for {
		var out struct{ Table struct{ TableStatus string } }
		if err := c.Call(ctx, "DescribeTable", map[string]string{"TableName": table}, &out); err != nil {
			return err
		}
		if out.Table.TableStatus == "ACTIVE" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// page is a Query's or a Scan's answer.
type page struct {
	Items            []map[string]authorizer.Attr
	LastEvaluatedKey map[string]authorizer.Attr
}

// pages reads every page of op (Query or Scan) with input in.
func pages(ctx context.Context, c *authorizer.DynamoDBClient, op string, in map[string]any) ([]authorizer.KeyItem, error) {
	var out []authorizer.KeyItem
	for {
		var p page
		if err := c.Call(ctx, op, in, &p); err != nil {
			return nil, err
		}
		for _, raw := range p.Items {
			it, err := authorizer.KeyItemOf(raw)
			if err != nil {
				return nil, err
			}
			out = append(out, it)
		}
		if len(p.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in["ExclusiveStartKey"] = p.LastEvaluatedKey
	}
}

// Client is client id's items: its current key first, then the keys in
// their grace. The index is read eventually consistently (a global
// secondary index has no other read): a change made within about a
// second may not show yet.
func Client(ctx context.Context, c *authorizer.DynamoDBClient, table, id string) ([]authorizer.KeyItem, error) {
	items, err := pages(ctx, c, "Query", map[string]any{
		"TableName": table, "IndexName": IDIndex,
		"KeyConditionExpression":    "#id = :id",
		"ExpressionAttributeNames":  map[string]string{"#id": IDAttr},
		"ExpressionAttributeValues": map[string]authorizer.Attr{":id": authorizer.Str(id)},
	})
	sortItems(items)
	return items, err
}

// All is every item of table, by client id, each client's current key
// first.
func All(ctx context.Context, c *authorizer.DynamoDBClient, table string) ([]authorizer.KeyItem, error) {
	items, err := pages(ctx, c, "Scan", map[string]any{"TableName": table})
	sortItems(items)
	return items, err
}

func sortItems(items []authorizer.KeyItem) {
	slices.SortStableFunc(items, func(a, b authorizer.KeyItem) int {
		switch {
		case a.ID != b.ID:
			return strings.Compare(a.ID, b.ID)
		case a.Until.IsZero() != b.Until.IsZero():
			if a.Until.IsZero() {
				return -1
			}
			return 1
		}
		return a.Until.Compare(b.Until)
	})
}

// MaxTransaction is the most items one change may touch: a
// TransactWriteItems call's limit
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
const MaxTransaction = 100

// ErrChanged is a change refused because the table changed under it: an
// item it meant to create exists, or one it read is gone.
var ErrChanged = errors.New("the table changed meanwhile; run the command again")

// Replace changes a client's items from before to after in one
// transaction: after's items are put, before's digests that after lacks
// are deleted. Every put of a new digest is conditional on its absence,
// and every delete on its presence, so two concurrent changes cannot
// both apply.
func Replace(ctx context.Context, c *authorizer.DynamoDBClient, table string, before, after []authorizer.KeyItem) error {
	had := map[string]bool{}
	for _, it := range before {
		had[it.SHA256] = true
	}
	var ops []map[string]any
	keep := map[string]bool{}
	for _, it := range after {
		keep[it.SHA256] = true
		put := map[string]any{"TableName": table, "Item": it.Item()}
		if !had[it.SHA256] {
			put["ConditionExpression"] = "attribute_not_exists(#k)"
		} else {
			put["ConditionExpression"] = "attribute_exists(#k)"
		}
		put["ExpressionAttributeNames"] = map[string]string{"#k": HashKey}
		ops = append(ops, map[string]any{"Put": put})
	}
	for _, it := range before {
		if !keep[it.SHA256] {
			ops = append(ops, map[string]any{"Delete": map[string]any{
				"TableName": table, "Key": map[string]authorizer.Attr{HashKey: authorizer.Str(it.SHA256)},
				"ConditionExpression": "attribute_exists(#k)", "ExpressionAttributeNames": map[string]string{"#k": HashKey},
			}})
		}
	}
	switch {
	case len(ops) == 0:
		return nil
	case len(ops) > MaxTransaction:
		return fmt.Errorf("a change of %d items: more than a transaction's %d", len(ops), MaxTransaction)
	}
	err := c.Call(ctx, "TransactWriteItems", map[string]any{"TransactItems": ops}, nil)
	if authorizer.IsCode(err, "TransactionCanceledException") {
		return fmt.Errorf("%w (%v)", ErrChanged, err)
	}
	return err
}

// Put writes items, 25 to a BatchWriteItem call, the calls' unprocessed
// items again until none are left or ctx ends
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).
func Put(ctx context.Context, c *authorizer.DynamoDBClient, table string, items []authorizer.KeyItem) error {
	for start := 0; start < len(items); start += 25 {
		var reqs []any
		for _, it := range items[start:min(start+25, len(items))] {
			reqs = append(reqs, map[string]any{"PutRequest": map[string]any{"Item": it.Item()}})
		}
		pending := map[string][]any{table: reqs}
		for wait := 50 * time.Millisecond; len(pending[table]) > 0; wait = min(2*wait, 5*time.Second) {
			var out struct{ UnprocessedItems map[string][]any }
			if err := c.Call(ctx, "BatchWriteItem", map[string]any{"RequestItems": pending}, &out); err != nil {
				return err
			}
			if len(out.UnprocessedItems[table]) == 0 {
				break
			}
			pending = map[string][]any{table: out.UnprocessedItems[table]}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
	}
	return nil
}

// Keyring is the keyring of items (as All reads them): per client, its
// item without Until is its current key, the others its previous keys. A
// client with no current key, or two (two tollkeys new of one client
// within the index's lag), is an error naming it: fix it with tollkeys
// remove and new.
func Keyring(items []authorizer.KeyItem) (authorizer.Keyring, error) {
	var kr authorizer.Keyring
	for _, it := range items {
		n := len(kr.Keys)
		if n == 0 || kr.Keys[n-1].ID != it.ID {
			k := authorizer.Key{ID: it.ID, Routes: it.Routes, UsageKey: it.UsageKey, Disabled: it.Disabled}
			if !it.Expires.IsZero() {
				e := it.Expires
				k.Expires = &e
			}
			kr.Keys = append(kr.Keys, k)
			n++
		}
		k := &kr.Keys[n-1]
		switch {
		case !it.Until.IsZero():
			k.Previous = append(k.Previous, authorizer.PreviousKey{SHA256: it.SHA256, Until: it.Until})
		case k.SHA256 != "":
			return kr, fmt.Errorf("client %q has two current keys in the table", it.ID)
		default:
			k.SHA256 = it.SHA256
		}
	}
	for _, k := range kr.Keys {
		if k.SHA256 == "" {
			return kr, fmt.Errorf("client %q has no current key in the table, only keys in their grace", k.ID)
		}
	}
	return kr, nil
}
