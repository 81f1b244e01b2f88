package authorizer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"tollgate/authorizer"
	"tollgate/internal/emulator/localddb"
)

// A keyring's keys as the items of a key table: one per key, a rotated-out
// key with the end of its grace, digests only.
func ExampleKeyItems() {
	until := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	items, err := authorizer.KeyItems(authorizer.Keyring{Keys: []authorizer.Key{
		{ID: "reports", Key: "tg_example_reports_key_0123456789abcdefg", Routes: []string{"GET /customers"},
			Previous: []authorizer.PreviousKey{{SHA256: authorizer.Digest("tg_example_old_reports_key_0123456789ab"), Until: until}}},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range items {
		b, _ := json.Marshal(it.Item())
		fmt.Println(len(it.SHA256), it.ID, it.Until.IsZero(), len(b) > 0)
	}
	// Output:
	// 64 reports true true
	// 64 reports false true
}

// An authorizer reading a key table: a key is looked up by its digest,
// once, and kept.
func ExampleKeyTable() {
	ddb := localddb.New() // a DynamoDB endpoint on loopback; on AWS, DynamoDB itself
	srv := httptest.NewServer(ddb)
	defer srv.Close()
	const key = "tg_example_reports_key_0123456789abcdefg"
	ddb.Put("keys", authorizer.KeyItem{SHA256: authorizer.Digest(key), ID: "reports"})

	a, err := authorizer.New(authorizer.Config{
		KeyTable: &authorizer.KeyTable{Name: "keys",
			Client: authorizer.NewDynamoDBClient(srv.URL, "us-east-1", aws.Credentials{AccessKeyID: "id", SecretAccessKey: "secret"}, http.DefaultClient)},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	event := `{"type":"TOKEN","authorizationToken":"Bearer ` + key + `","methodArn":"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/customers"}`
	for range 3 {
		out, err := a.Invoke(context.Background(), []byte(event))
		var answer struct{ PrincipalID string }
		_ = json.Unmarshal(out, &answer)
		fmt.Println(answer.PrincipalID, err)
	}
	fmt.Println("GetItem calls:", ddb.GetItems.Load())
	// Output:
	// reports <nil>
	// reports <nil>
	// reports <nil>
	// GetItem calls: 1
}
