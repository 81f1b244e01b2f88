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

// The DynamoDB key store (issue 32, in progress): a table keyed by the
// digest of each key, one item per key, for key sets past what one secret
// holds (MaxKeyringBytes). This file has the item's shape and the one
// call the authorizer makes of the table, GetItem; the authorizer does
// not read a table yet.

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

// attr is a DynamoDB attribute value, of the types a KeyItem uses
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html).
type attr struct {
	S    *string `json:"S,omitempty"`
	L    []attr  `json:"L,omitempty"`
	BOOL *bool   `json:"BOOL,omitempty"`
}

func str(s string) attr { return attr{S: &s} }

// Item is k as DynamoDB's JSON protocol writes an item.
func (k KeyItem) Item() map[string]attr {
	item := map[string]attr{"sha256": str(k.SHA256), "id": str(k.ID)}
	if len(k.Routes) > 0 {
		var l []attr
		for _, r := range k.Routes {
			l = append(l, str(r))
		}
		item["routes"] = attr{L: l}
	}
	if k.UsageKey != "" {
		item["usageKey"] = str(k.UsageKey)
	}
	if !k.Expires.IsZero() {
		item["expires"] = str(k.Expires.UTC().Format(time.RFC3339))
	}
	if !k.Until.IsZero() {
		item["until"] = str(k.Until.UTC().Format(time.RFC3339))
	}
	if k.Disabled {
		t := true
		item["disabled"] = attr{BOOL: &t}
	}
	return item
}

// errBadItem is an item the authorizer cannot read: it refuses the key.
var errBadItem = errors.New("key item unreadable")

// keyItemOf reads an item; an item of another shape is an error that
// names the attribute, never a value.
func keyItemOf(item map[string]attr) (KeyItem, error) {
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

// maxItemAnswer bounds an answer read: an item is at most 400 KB
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
const maxItemAnswer = 1 << 20

// GetKeyItem reads the item of a digest (lower-case hex) from table, with
// an eventually consistent read; ok is false when there is none.
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html:
// an answer without Item when no item has the key.)
func (c *DynamoDBClient) GetKeyItem(ctx context.Context, table, digest string) (KeyItem, bool, error) {
	body, err := json.Marshal(map[string]any{"TableName": table, "Key": map[string]attr{"sha256": str(digest)}})
	if err != nil {
		return KeyItem{}, false, err
	}
	sum := sha256.Sum256(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return KeyItem{}, false, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "dynamodb", c.region, c.now()); err != nil {
		return KeyItem{}, false, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return KeyItem{}, false, fmt.Errorf("dynamodb GetItem: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxItemAnswer))
	if err != nil {
		return KeyItem{}, false, fmt.Errorf("dynamodb GetItem: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return KeyItem{}, false, &apiError{Status: resp.StatusCode, Code: errorCode(resp.Header.Get("X-Amzn-ErrorType"), raw)}
	}
	var out struct {
		Item map[string]attr
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return KeyItem{}, false, fmt.Errorf("dynamodb GetItem: decoding the answer: %w", err)
	}
	if out.Item == nil {
		return KeyItem{}, false, nil
	}
	k, err := keyItemOf(out.Item)
	if err == nil && k.SHA256 != digest {
		err = fmt.Errorf("%w: the item answered is another key's", errBadItem)
	}
	return k, err == nil, err
}
