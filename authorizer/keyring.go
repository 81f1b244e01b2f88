package authorizer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MinKeyLength is the shortest key a keyring may hold, in bytes.
const MinKeyLength = 32

// MinUsageKeyLength is the shortest API Gateway API key value, in
// characters (CreateApiKey refuses shorter values).
const MinUsageKeyLength = 20

// DefaultKeyID is the id of the one key in a secret that is a bare string.
const DefaultKeyID = "default"

// Key is one client's entry in a keyring.
type Key struct {
	// ID names the client. It becomes the policy's principalId and appears
	// in logs; it is not secret. Letters, digits and . _ - : @ only.
	ID string `json:"id"`
	// SHA256 is the lower-case hex SHA-256 of the client's key (Digest):
	// what the keyring stores, so that a reader of the secret cannot call
	// the API. Exactly one of SHA256 and Key is set.
	SHA256 string `json:"sha256,omitempty"`
	// Key is the key itself, the format of keyrings before digests. It
	// keeps working; ToDigests converts a keyring. At least MinKeyLength
	// and at most MaxKeyLength bytes of visible ASCII without commas; with
	// a scheme such as Bearer, only the RFC 6750 b64token characters.
	Key string `json:"key,omitempty"`
	// Routes, when present, are the only routes the key may call, as
	// "METHOD /path" with IAM wildcards in the path ("GET /orders/*").
	// A path parameter segment, as the API's routes write it
	// ("GET /orders/{id}"), is a "*" too. METHOD is an HTTP method, or ANY
	// or * for each of them. Without
	// Routes, the key may call every route of the stage; an empty list is
	// refused.
	Routes []string `json:"routes,omitempty"`
	// UsageKey is an API Gateway API key value returned as the policy's
	// usageIdentifierKey, for usage plans with the AUTHORIZER key source.
	UsageKey string `json:"usageKey,omitempty"`
	// Plan names the usage plan the usage key is on, for the local
	// gateway, which limits each client by it as API Gateway does
	// (package tollgate/plans). A deployed keyring leaves it out: API
	// Gateway keeps each key's plan itself, so moving a client between
	// plans does not change the secret.
	Plan string `json:"plan,omitempty"`
	// Expires, when set, is the instant the key stops working.
	Expires *time.Time `json:"expires,omitempty"`
	// Disabled keys are refused, and logged as such.
	Disabled bool `json:"disabled,omitempty"`
	// Previous are the client's keys replaced at a rotation, each working
	// until its Until: the grace a rotation gives callers to move to the
	// new key. They share the client's id, routes and usage key.
	Previous []PreviousKey `json:"previous,omitempty"`
}

// PreviousKey is a key replaced at a rotation, by digest, with the end of
// its grace.
type PreviousKey struct {
	SHA256 string    `json:"sha256"`
	Until  time.Time `json:"until"`
}

// Keyring is the document kept in the Secrets Manager secret:
//
//	{"keys":[{"id":"mobile-app","sha256":"…","routes":["GET /orders/*"],"usageKey":"…",
//	          "expires":"2027-06-30T00:00:00Z","previous":[{"sha256":"…","until":"2026-12-08T00:00:00Z"}]}]}
type Keyring struct {
	Keys []Key `json:"keys"`
}

// ErrMalformedKeyring is wrapped by every error ParseKeyring returns.
var ErrMalformedKeyring = errors.New("malformed keyring")

// ParseKeyring reads a secret's value: a Keyring document, or a bare string
// that is one key with id "default". The keyring is validated (see
// Keyring.Validate). Errors name keys by id or position, never by value.
func ParseKeyring(secret []byte) (Keyring, error) {
	kr, _, err := parseKeyring(secret)
	return kr, err
}

// parseKeyring is ParseKeyring, with the route limit of each key (nil for
// a key on the whole stage), compiled as validation proved them.
func parseKeyring(secret []byte) (Keyring, []*routeLimit, error) {
	v := bytes.TrimSpace(secret)
	var kr Keyring
	switch {
	case len(v) == 0:
		return Keyring{}, nil, fmt.Errorf("%w: the secret is empty", ErrMalformedKeyring)
	case v[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&kr); err != nil {
			return Keyring{}, nil, fmt.Errorf("%w: %s", ErrMalformedKeyring, describeJSONError(err))
		}
		if dec.More() {
			return Keyring{}, nil, fmt.Errorf("%w: data after the keyring object", ErrMalformedKeyring)
		}
	case v[0] == '[' || v[0] == '"':
		return Keyring{}, nil, fmt.Errorf(`%w: want a {"keys":[…]} object or a bare key, not a JSON array or string`, ErrMalformedKeyring)
	default:
		kr.Keys = []Key{{ID: DefaultKeyID, Key: string(v)}}
	}
	limits, err := kr.validate()
	if err != nil {
		return Keyring{}, nil, err
	}
	return kr, limits, nil
}

// describeJSONError turns a decoding error into words that cannot quote the
// secret: encoding/json's syntax errors carry only offsets, and a type error
// names the field by its place in the structure; time.Time's parse errors
// quote the text, so they are reduced to what the field wants.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tim *time.ParseError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q holds a JSON %s, want %s", typ.Field, typ.Value, typ.Type)
	case errors.As(err, &tim):
		return "a time is not RFC 3339 (like 2026-12-08T00:00:00Z)"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// A field name is structure, not a value, but a key pasted where
		// a name belongs would be quoted: name only what cannot be a key
		// or a usage key (every secret is at least MinUsageKeyLength long).
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if len(name) <= 16 && strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
			return fmt.Sprintf("unknown field %q", name)
		}
		return "unknown field"
	}
	return "invalid JSON"
}

// Validate checks every rule a keyring must meet: at least one key; ids
// present, well-formed, unique and not a key or usage key of the keyring
// (ids are logged); each key either a digest (64 hex digits) or a key of
// MinKeyLength to MaxKeyLength bytes of visible ASCII without commas, with
// a correct checksum if it has KeyPrefix; no key twice, current or
// previous; routes well-formed and, when present, not empty; usage keys at
// least MinUsageKeyLength characters; previous keys with their end of
// grace. Errors name keys by id or position and routes by position, never
// by value.
func (k Keyring) Validate() error {
	_, err := k.validate()
	return err
}

// validate is Validate, returning each key's route limit (nil for a key
// on the whole stage), compiled and proven exact.
func (k Keyring) validate() ([]*routeLimit, error) {
	if len(k.Keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrMalformedKeyring)
	}
	limits := make([]*routeLimit, len(k.Keys))
	// Every key's digest, once: the ids are checked against all of them.
	keyDigests := make([][32]byte, len(k.Keys))
	keyErrs := make([]error, len(k.Keys))
	secrets := make(map[[32]byte]bool, len(k.Keys)) // digests of keys and usage keys
	for i, key := range k.Keys {
		keyDigests[i], keyErrs[i] = key.digest()
		if keyErrs[i] == nil {
			secrets[keyDigests[i]] = true
		}
		for _, p := range key.Previous {
			if d, ok := parseDigest(p.SHA256); ok {
				secrets[d] = true
			}
		}
		if key.UsageKey != "" {
			secrets[sha256.Sum256([]byte(key.UsageKey))] = true
		}
	}
	digests := make(map[[32]byte]string, len(k.Keys))
	ids := make(map[string]bool, len(k.Keys))
	for i, key := range k.Keys {
		if err := ValidateID(key.ID); err != nil {
			return nil, fmt.Errorf("%w: key #%d: %w", ErrMalformedKeyring, i+1, err)
		}
		if secrets[sha256.Sum256([]byte(key.ID))] {
			return nil, fmt.Errorf("%w: key #%d: the id is a key or usage key of this keyring; ids are logged, keys never", ErrMalformedKeyring, i+1)
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: key %q: %s", ErrMalformedKeyring, key.ID, fmt.Sprintf(format, args...))
		}
		if ids[key.ID] {
			return nil, fail("duplicate id")
		}
		ids[key.ID] = true
		if keyErrs[i] != nil {
			return nil, fail("%v", keyErrs[i])
		}
		d := keyDigests[i]
		if other, dup := digests[d]; dup {
			return nil, fail("same key as key %q", other)
		}
		digests[d] = key.ID
		for j, p := range key.Previous {
			pd, ok := parseDigest(p.SHA256)
			switch {
			case !ok:
				return nil, fail("previous key #%d: sha256 is not 64 hex digits", j+1)
			case p.Until.IsZero():
				return nil, fail("previous key #%d: no until (the end of its grace)", j+1)
			}
			if other, dup := digests[pd]; dup {
				return nil, fail("previous key #%d: same key as key %q", j+1, other)
			}
			digests[pd] = key.ID
		}
		if key.Routes != nil && len(key.Routes) == 0 {
			return nil, fail("empty route list: omit routes to allow every route, or list the routes")
		}
		if key.Routes != nil {
			var err error
			if limits[i], err = compileRoutes(key.Routes); err != nil {
				return nil, fail("%v", err)
			}
		}
		if key.UsageKey != "" {
			if len(key.UsageKey) < MinUsageKeyLength {
				return nil, fail("usageKey shorter than %d characters", MinUsageKeyLength)
			}
			if !isRawKey([]byte(key.UsageKey)) {
				return nil, fail("usageKey holds a character other than visible ASCII")
			}
		}
		if key.Plan != "" && key.UsageKey == "" {
			return nil, fail("a plan without a usageKey: the plan limits the key API Gateway is given, its usageKey")
		}
	}
	return limits, nil
}

// digest returns the SHA-256 the key is matched by: its sha256, or the hash
// of its plain key after that key's checks.
func (key Key) digest() ([32]byte, error) {
	switch {
	case key.SHA256 != "" && key.Key != "":
		return [32]byte{}, errors.New("both sha256 and key: keep only sha256")
	case key.SHA256 != "":
		d, ok := parseDigest(key.SHA256)
		if !ok {
			return d, errors.New("sha256 is not 64 hex digits")
		}
		return d, nil
	case key.Key == "":
		return [32]byte{}, errors.New("no sha256 (or key)")
	case len(key.Key) < MinKeyLength:
		return [32]byte{}, fmt.Errorf("shorter than %d bytes", MinKeyLength)
	case len(key.Key) > MaxKeyLength:
		return [32]byte{}, fmt.Errorf("longer than %d bytes", MaxKeyLength)
	case !isRawKey([]byte(key.Key)):
		return [32]byte{}, errors.New("holds a character that cannot be sent in an HTTP header (visible ASCII without commas only)")
	case hasKeyPrefix([]byte(key.Key)) && !CheckKey(key.Key):
		return [32]byte{}, fmt.Errorf("starts with %s but its checksum does not match: mistyped", KeyPrefix)
	}
	return sha256.Sum256([]byte(key.Key)), nil
}

func parseDigest(s string) (d [32]byte, ok bool) {
	if len(s) != 2*len(d) || strings.ToLower(s) != s {
		return d, false
	}
	_, err := hex.Decode(d[:], []byte(s))
	return d, err == nil
}

// ToDigests returns k with every plain key replaced by its digest: the
// keyring to store once its keys are handed out.
func (k Keyring) ToDigests() Keyring {
	out := Keyring{Keys: make([]Key, len(k.Keys))}
	for i, key := range k.Keys {
		if key.Key != "" {
			key.SHA256, key.Key = Digest(key.Key), ""
		}
		out.Keys[i] = key
	}
	return out
}

// ValidateID checks a client id: 1 to 128 letters, digits and . _ - : @,
// and nothing that looks like a key or a digest, since an id is logged
// and sent to the integration as the principal: not KeyPrefix first (a
// key pasted as an id, or a name a secret scanner would take for one), not
// 64 hex digits (a key's digest), and not JWTPrincipalPrefix first (a
// JWT's principal). The error does not quote the id.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("missing id")
	}
	if len(id) > 128 {
		return errors.New("id longer than 128 characters")
	}
	for i := range len(id) {
		if c := id[i]; !isAlnum(c) && !strings.ContainsRune("._-:@", rune(c)) {
			// Not quoted: a key pasted here would be.
			return errors.New("the id holds a character other than letters, digits and . _ - : @")
		}
	}
	if len(id) >= len(KeyPrefix) && strings.EqualFold(id[:len(KeyPrefix)], KeyPrefix) {
		return errors.New("the id starts with " + KeyPrefix + ", as keys do: ids are logged, keys never")
	}
	if len(id) >= len(JWTPrincipalPrefix) && strings.EqualFold(id[:len(JWTPrincipalPrefix)], JWTPrincipalPrefix) {
		return errors.New("the id starts with " + JWTPrincipalPrefix + ", as JWTs' principals do: a key's principal must not read as a token's")
	}
	if _, isDigest := parseDigest(strings.ToLower(id)); isDigest {
		return errors.New("the id is 64 hex digits, as a key's digest is: ids are logged, digests never")
	}
	return nil
}
