package authorizer

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
	// Key is the secret the client presents. At least MinKeyLength and at
	// most MaxKeyLength bytes of visible ASCII without commas; with a
	// scheme such as Bearer, only the RFC 6750 b64token characters.
	Key string `json:"key"`
	// Routes, when present, are the only routes the key may call, as
	// "METHOD /path" with IAM wildcards in the path ("GET /orders/*").
	// METHOD is an HTTP method, or ANY or * for every method. Without
	// Routes, the key may call every route of the stage.
	Routes []string `json:"routes,omitempty"`
	// UsageKey is an API Gateway API key value returned as the policy's
	// usageIdentifierKey, for usage plans with the AUTHORIZER key source.
	UsageKey string `json:"usageKey,omitempty"`
}

// Keyring is the document kept in the Secrets Manager secret:
//
//	{"keys":[{"id":"mobile-app","key":"…","routes":["GET /orders/*"],"usageKey":"…"}]}
type Keyring struct {
	Keys []Key `json:"keys"`
}

// ErrMalformedKeyring is wrapped by every error ParseKeyring returns.
var ErrMalformedKeyring = errors.New("malformed keyring")

// ParseKeyring reads a secret's value: a Keyring document, or a bare string
// that is one key with id "default". The keyring is validated (see
// Keyring.Validate). Errors name keys by id or position, never by value.
func ParseKeyring(secret []byte) (Keyring, error) {
	v := bytes.TrimSpace(secret)
	var kr Keyring
	switch {
	case len(v) == 0:
		return Keyring{}, fmt.Errorf("%w: the secret is empty", ErrMalformedKeyring)
	case v[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&kr); err != nil {
			return Keyring{}, fmt.Errorf("%w: %s", ErrMalformedKeyring, describeJSONError(err))
		}
		if dec.More() {
			return Keyring{}, fmt.Errorf("%w: data after the keyring object", ErrMalformedKeyring)
		}
	case v[0] == '[' || v[0] == '"':
		return Keyring{}, fmt.Errorf(`%w: want a {"keys":[…]} object or a bare key, not a JSON array or string`, ErrMalformedKeyring)
	default:
		kr.Keys = []Key{{ID: DefaultKeyID, Key: string(v)}}
	}
	if err := kr.Validate(); err != nil {
		return Keyring{}, err
	}
	return kr, nil
}

// describeJSONError turns a decoding error into words that cannot quote the
// secret: encoding/json's syntax errors carry only offsets, but a type error
// could name a value, so only its field and type are kept.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q holds a JSON %s, want %s", typ.Field, typ.Value, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// A field name is structure, not a value, but a key pasted where
		// a name belongs would be quoted: name only what cannot be a key.
		if name := strings.TrimPrefix(err.Error(), "json: unknown field "); len(name) < MinKeyLength {
			return "unknown field " + name
		}
		return "unknown field"
	}
	return "invalid JSON"
}

// Validate checks every rule a keyring must meet: at least one key; ids
// present, well-formed and unique; keys of MinKeyLength to MaxKeyLength
// bytes of visible ASCII without commas, and no key twice; routes
// well-formed; usage keys at least MinUsageKeyLength characters.
func (k Keyring) Validate() error {
	if len(k.Keys) == 0 {
		return fmt.Errorf("%w: no keys", ErrMalformedKeyring)
	}
	ids := make(map[string]bool, len(k.Keys))
	digests := make(map[[32]byte]string, len(k.Keys))
	for i, key := range k.Keys {
		if err := validateID(key.ID); err != nil {
			return fmt.Errorf("%w: key #%d: %w", ErrMalformedKeyring, i+1, err)
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: key %q: %s", ErrMalformedKeyring, key.ID, fmt.Sprintf(format, args...))
		}
		if ids[key.ID] {
			return fail("duplicate id")
		}
		ids[key.ID] = true
		switch {
		case len(key.Key) < MinKeyLength:
			return fail("shorter than %d bytes", MinKeyLength)
		case len(key.Key) > MaxKeyLength:
			return fail("longer than %d bytes", MaxKeyLength)
		case !isRawKey([]byte(key.Key)):
			return fail("holds a character that cannot be sent in an HTTP header (visible ASCII without commas only)")
		}
		d := sha256.Sum256([]byte(key.Key))
		if other, dup := digests[d]; dup {
			return fail("same key as key %q", other)
		}
		digests[d] = key.ID
		for _, r := range key.Routes {
			if _, err := routeResource(r); err != nil {
				return fail("route %q: %v", r, err)
			}
		}
		if key.UsageKey != "" {
			if len(key.UsageKey) < MinUsageKeyLength {
				return fail("usageKey shorter than %d characters", MinUsageKeyLength)
			}
			if !isRawKey([]byte(key.UsageKey)) {
				return fail("usageKey holds a character other than visible ASCII")
			}
		}
	}
	return nil
}

func validateID(id string) error {
	if id == "" {
		return errors.New("missing id")
	}
	if len(id) > 128 {
		return errors.New("id longer than 128 characters")
	}
	for i := range len(id) {
		if c := id[i]; !isAlnum(c) && !strings.ContainsRune("._-:@", rune(c)) {
			return fmt.Errorf("id %q: only letters, digits and . _ - : @ are allowed", id)
		}
	}
	return nil
}

// Methods a route may name; ANY and * both mean every method.
var routeMethods = map[string]string{
	"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT", "PATCH": "PATCH",
	"DELETE": "DELETE", "OPTIONS": "OPTIONS", "ANY": "*", "*": "*",
}

// routeResource turns "GET /orders/*" into the part of a method ARN after
// the stage, "GET/orders/*".
func routeResource(route string) (string, error) {
	method, path, ok := strings.Cut(route, " ")
	if !ok {
		return "", errors.New(`want "METHOD /path"`)
	}
	m, ok := routeMethods[method]
	if !ok {
		return "", fmt.Errorf("unknown method %q", method)
	}
	if !strings.HasPrefix(path, "/") {
		return "", errors.New("path must start with /")
	}
	for i := range len(path) {
		if !arnChar[path[i]] && path[i] != '*' && path[i] != '?' {
			return "", errors.New("path holds a character that cannot appear in a method ARN")
		}
	}
	return m + path, nil
}

// entry is one key of a loaded keyring, with what its decisions need.
type entry struct {
	id        string
	stage     string   // the secret version stage it was loaded from
	resources []string // method ARN suffixes after the stage; nil = all
	usageKey  string

	answers                 answerCache // REST Allow answers by stage prefix
	simpleAllow, simpleDeny []byte      // HTTP API answers
}

// keyTable holds the digests of every loaded key, in one flat array so that
// comparing against all of them is a tight loop.
type keyTable struct {
	digests [][4]uint64
	entries []*entry
}

// stageKeyring is the keyring read from one version stage of the secret.
type stageKeyring struct {
	stage   string
	keyring Keyring
}

// newKeyTable merges the stages' keyrings, earlier stages first. A key
// present in several stages is kept once, with the earliest stage.
func newKeyTable(stages []stageKeyring) (*keyTable, error) {
	t := &keyTable{}
	seen := make(map[[32]byte]bool)
	for _, sk := range stages {
		for _, k := range sk.keyring.Keys {
			d := sha256.Sum256([]byte(k.Key))
			if seen[d] {
				continue
			}
			seen[d] = true
			e := &entry{id: k.ID, stage: sk.stage, usageKey: k.UsageKey}
			for _, r := range k.Routes {
				res, err := routeResource(r)
				if err != nil { // Validate ran already; keep the check total
					return nil, fmt.Errorf("%w: %s: key %q: route %q: %w", ErrMalformedKeyring, sk.stage, k.ID, r, err)
				}
				e.resources = append(e.resources, res)
			}
			e.simpleAllow, e.simpleDeny = e.renderSimple(true), e.renderSimple(false)
			t.digests = append(t.digests, digestWords(d))
			t.entries = append(t.entries, e)
		}
	}
	return t, nil
}

func digestWords(d [32]byte) [4]uint64 {
	return [4]uint64{
		binary.LittleEndian.Uint64(d[0:]), binary.LittleEndian.Uint64(d[8:]),
		binary.LittleEndian.Uint64(d[16:]), binary.LittleEndian.Uint64(d[24:]),
	}
}

// match returns the entry whose key equals token.
//
// Timing: token is hashed with SHA-256 and the digest is compared with the
// digest of every stored key, always all of them, with no early exit and no
// branch or memory access that depends on the data: each comparison XORs
// and ORs the four 64-bit words of both digests and folds the result into
// masks arithmetically, as crypto/subtle.ConstantTimeCompare does byte by
// byte (measured 5x slower at 100 keys), and the loop runs under
// crypto/subtle.WithDataIndependentTiming, which turns on the CPU's
// data-independent-timing mode where it has one (arm64 DIT). So the time
// taken depends on the length of token (which the caller chose) and on the
// number of stored keys, but not on whether, where or how closely a key
// matches, nor on the stored keys' lengths. Keys are distinct, so at most
// one digest can match.
func (t *keyTable) match(token []byte) (*entry, bool) {
	idx, found := t.find(token)
	if found == 0 {
		return nil, false
	}
	return t.entries[idx-1], true
}

// find is match's comparison, all of it done in constant time: it returns
// 1 + the index of the key equal to token (0 if none) and a non-zero found
// when there is one. Only what match does with the result branches.
func (t *keyTable) find(token []byte) (idx, found uint64) {
	d := digestWords(sha256.Sum256(token))
	subtle.WithDataIndependentTiming(func() {
		idx, found = scanDigests(t.digests, &d)
	})
	return idx, found
}

// scanDigests returns 1 + the index of the digest equal to d (0 if none) and
// a non-zero found when there was one, in constant time.
func scanDigests(digests [][4]uint64, d *[4]uint64) (idx, found uint64) {
	a0, a1, a2, a3 := d[0], d[1], d[2], d[3]
	for i := range digests {
		k := &digests[i]
		v := (k[0] ^ a0) | (k[1] ^ a1) | (k[2] ^ a2) | (k[3] ^ a3)
		// (v | -v) has its top bit set exactly when v != 0; the mask is
		// all ones when the digests are equal and zero otherwise.
		mask := ((v | -v) >> 63) - 1
		idx |= uint64(i+1) & mask
		found |= mask
	}
	return idx, found
}
