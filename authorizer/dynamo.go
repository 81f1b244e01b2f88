package authorizer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The DynamoDB key store: a table keyed by the digest of each key, one
// item per key, for key sets past what one secret holds
// (MaxKeyringBytes). This file has the item's shape and the client of
// the table; the authorizer makes one call of it, GetItem (tablestore.go),
// and tollkeys the others (internal/keytable).

// KeyItem is the table's item for one key: the key's digest (the
// partition key, attribute "sha256", lower-case hex) and what the keyring
// holds for its client. A key a rotation replaced is an item of its own,
// with Until, the end of its grace.
type KeyItem struct {
	SHA256   string
	ID       string
	Routes   []string
	UsageKey string
	Expires  time.Time
	Until    time.Time
	Disabled bool
	// Stack, when set, is the Pulumi stack whose settings made the item
	// (a client of tollgate:clients): tollkeys leaves it to the stack.
	Stack string
}

// KeyItems are the items of a keyring: one per key, a client's current
// key and each of its previous ones. A plain key is stored as its digest.
func KeyItems(kr Keyring) ([]KeyItem, error) {
	if err := kr.Validate(); err != nil {
		return nil, err
	}
	var out []KeyItem
	for _, k := range kr.Keys {
		d, err := k.digest()
		if err != nil {
			return nil, err
		}
		base := KeyItem{SHA256: hex.EncodeToString(d[:]), ID: k.ID, Routes: k.Routes, UsageKey: k.UsageKey, Disabled: k.Disabled}
		if k.Expires != nil {
			base.Expires = *k.Expires
		}
		out = append(out, base)
		for _, p := range k.Previous {
			prev := base
			prev.SHA256, prev.Until = p.SHA256, p.Until
			out = append(out, prev)
		}
	}
	return out, nil
}

// Attr is a DynamoDB attribute value, of the types a KeyItem uses
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html).
type Attr struct {
	S    *string `json:"S,omitempty"`
	L    []Attr  `json:"L,omitempty"`
	BOOL *bool   `json:"BOOL,omitempty"`
}

func Str(s string) Attr { return Attr{S: &s} }

// Item is k as DynamoDB's JSON protocol writes an item.
func (k KeyItem) Item() map[string]Attr {
	item := map[string]Attr{"sha256": Str(k.SHA256), "id": Str(k.ID)}
	if len(k.Routes) > 0 {
		var l []Attr
		for _, r := range k.Routes {
			l = append(l, Str(r))
		}
		item["routes"] = Attr{L: l}
	}
	if k.UsageKey != "" {
		item["usageKey"] = Str(k.UsageKey)
	}
	if !k.Expires.IsZero() {
		item["expires"] = Str(k.Expires.UTC().Format(time.RFC3339))
	}
	if !k.Until.IsZero() {
		item["until"] = Str(k.Until.UTC().Format(time.RFC3339))
	}
	if k.Stack != "" {
		item["stack"] = Str(k.Stack)
	}
	if k.Disabled {
		t := true
		item["disabled"] = Attr{BOOL: &t}
	}
	return item
}

// errBadItem is an item the authorizer cannot read: it refuses the key.
var errBadItem = errors.New("key item unreadable")

// keyItemOf reads an item; an item of another shape is an error that
// names the attribute, never a value.
func KeyItemOf(item map[string]Attr) (KeyItem, error) {
	s := func(name string, required bool) (string, error) {
		a, ok := item[name]
		switch {
		case !ok && !required:
			return "", nil
		case !ok || a.S == nil:
			return "", fmt.Errorf("%w: attribute %s is not a string", errBadItem, name)
		}
		return *a.S, nil
	}
	var k KeyItem
	var err error
	if k.SHA256, err = s("sha256", true); err != nil {
		return k, err
	}
	if k.ID, err = s("id", true); err != nil {
		return k, err
	}
	if k.UsageKey, err = s("usageKey", false); err != nil {
		return k, err
	}
	if k.Stack, err = s("stack", false); err != nil {
		return k, err
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"expires", &k.Expires}, {"until", &k.Until}} {
		v, err := s(t.name, false)
		if err != nil {
			return k, err
		}
		if v != "" {
			if *t.dst, err = time.Parse(time.RFC3339, v); err != nil {
				return k, fmt.Errorf("%w: attribute %s is not an RFC 3339 time", errBadItem, t.name)
			}
		}
	}
	if a, ok := item["routes"]; ok {
		for _, r := range a.L {
			if r.S == nil {
				return k, fmt.Errorf("%w: attribute routes holds a non-string", errBadItem)
			}
			k.Routes = append(k.Routes, *r.S)
		}
	}
	if a, ok := item["disabled"]; ok {
		if a.BOOL == nil {
			return k, fmt.Errorf("%w: attribute disabled is not a boolean", errBadItem)
		}
		k.Disabled = *a.BOOL
	}
	return k, nil
}

// DynamoDBClient makes the one DynamoDB call the key store needs,
// GetItem, over HTTPS with AWS's JSON 1.0 protocol, signed with Signature
// Version 4 by the SDK's signer, as SecretsManagerClient does for
// Secrets Manager (and for the same reason: the SDK's client is most of a
// cold start).
type DynamoDBClient struct {
	endpoint string
	region   string
	creds    aws.Credentials
	signer   *v4.Signer
	http     *http.Client
	now      func() time.Time
}

// NewDynamoDBClient is a client of endpoint (https://dynamodb.REGION.amazonaws.com,
// or an emulator's) signing for region with creds.
func NewDynamoDBClient(endpoint, region string, creds aws.Credentials, hc *http.Client) *DynamoDBClient {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &DynamoDBClient{endpoint: endpoint, region: region, creds: creds, signer: v4.NewSigner(), http: hc, now: time.Now}
}

// maxDynamoAnswer bounds an answer read: an item is at most 400 KB, a
// Query or Scan page at most 1 MB of items, a BatchGetItem 16 MB
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
const maxDynamoAnswer = 16 << 20

// GetKeyItem reads the item of a digest (lower-case hex) from table, with
// an eventually consistent read; ok is false when there is none.
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html:
// an answer without Item when no item has the key.)
func (c *DynamoDBClient) GetKeyItem(ctx context.Context, table, digest string) (KeyItem, bool, error) {
	var out struct {
		Item map[string]Attr
	}
	if err := c.Call(ctx, "GetItem", map[string]any{"TableName": table, "Key": map[string]Attr{"sha256": Str(digest)}}, &out); err != nil {
		return KeyItem{}, false, err
	}
	if out.Item == nil {
		return KeyItem{}, false, nil
	}
	k, err := KeyItemOf(out.Item)
	if err == nil && k.SHA256 != digest {
		err = fmt.Errorf("%w: the item answered is another key's", errBadItem)
	}
	return k, err == nil, err
}

// Call makes one DynamoDB call, op (GetItem, PutItem, …), with in as its
// JSON body, decoding the answer into out (nil: not decoded). An error
// answer is an error naming the operation and AWS's code
// (ResourceNotFoundException, ConditionalCheckFailedException, …): see
// IsCode. tollkeys and the tests make the table's other calls with it.
func (c *DynamoDBClient) Call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "dynamodb", c.region, c.now()); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("dynamodb %s: %w", op, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxDynamoAnswer))
	if err != nil {
		return fmt.Errorf("dynamodb %s: reading the answer: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var msg struct {
			Message  string `json:"message"`
			MessageU string `json:"Message"`
		}
		_ = json.Unmarshal(raw, &msg)
		return &apiError{Service: "DynamoDB", Op: op, Status: resp.StatusCode, Code: errorCode(resp.Header.Get("X-Amzn-ErrorType"), raw), Message: msg.Message + msg.MessageU}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("dynamodb %s: decoding the answer: %w", op, err)
	}
	return nil
}

// IsCode says whether err is an AWS error answer with code.
func IsCode(err error, code string) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Code == code
}
