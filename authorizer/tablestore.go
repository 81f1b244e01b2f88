package authorizer

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// The table store (Config.KeyTable, TOLLGATE_KEY_TABLE; a stack's with
// keyStore: dynamodb; tollkeys changes it as dynamodb:TABLE): a presented
// key the keyring lacks is looked up by its digest in a DynamoDB table
// (KeyItem, DynamoDBClient.GetKeyItem), one GetItem on a miss, and the
// answer, found or not, kept for a bounded time in a bounded cache.
//
// Timing: the lookup is by the SHA-256 of the presented token. What its
// time can tell (a cached or an uncached digest, an item or none) is
// whether that digest is a key's, which the answer says anyway; it cannot
// tell how close a guess is to any stored key, since a digest shares
// nothing with the digest of a near key, and a caller cannot choose a
// digest's bits. No stored key is compared with the token at all.
//
// Cost: every well-formed key not in the cache is a GetItem (the
// checksum is public, so anyone can make well-formed keys). The cache
// keeps a not-found answer for negativeTTL, so a repeated guess costs one
// read per negativeTTL; distinct guesses cost one read each, at most the
// stage's throttle (requests a second) reads a second; the cache holds at
// most maxCached digests, evicting the least recently used.
// TestTableStoreRemovalBound holds both over generated schedules.
//
// Revocation: a found key is kept for the key TTL, so a key removed or
// disabled in the table is refused within the key TTL (plus the result
// cache's TTL), the keyring's bound; a lookup that fails is not cached
// and fails closed.

// KeyTable is a DynamoDB table of keys (Config.KeyTable).
type KeyTable struct {
	// Name is the table's name.
	Name string
	// Client reads it.
	Client *DynamoDBClient
	// NegativeTTL is how long a key the table lacks is remembered as
	// unknown; default DefaultNegativeTTL. A found key is kept for the
	// key TTL (Config.TTL): the revocation bound of the keyring.
	NegativeTTL time.Duration
	// MaxCached bounds the digests remembered; default DefaultMaxCached.
	// A found key's entry takes about 1.3 KB of heap (its answers
	// rendered once), a not-found one far less: the default keeps the
	// cache near 13 MB (bench: KeyStore/Memory).
	MaxCached int
}

// Defaults of KeyTable.
const (
	DefaultNegativeTTL = time.Minute
	DefaultMaxCached   = 10_000
)

// itemGetter is the call the table store makes (DynamoDBClient).
type itemGetter interface {
	GetKeyItem(ctx context.Context, table, digest string) (KeyItem, bool, error)
}

// tableStore looks keys up in a table, with a cache.
type tableStore struct {
	get              itemGetter
	table            string
	ttl, negativeTTL time.Duration
	maxCached        int
	now              func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]*list.Element // of *cachedKey
	lru   *list.List                 // most recently used first
}

// cachedKey is one lookup's answer: the key's entry, or nil for none.
type cachedKey struct {
	digest [32]byte
	e      *entry
	at     time.Time
}

func newTableStore(get itemGetter, table string, ttl, negativeTTL time.Duration, maxCached int, now func() time.Time) *tableStore {
	return &tableStore{get: get, table: table, ttl: ttl, negativeTTL: negativeTTL, maxCached: max(maxCached, 1), now: now,
		cache: map[[32]byte]*list.Element{}, lru: list.New()}
}

// lookup returns the entry of the key token, or nil when the table has
// none. An error (the table unreachable, an item the authorizer cannot
// read) is never cached: the caller fails closed, and the next request
// asks again.
//
// timeout bounds the read; a cached answer makes no context or timer.
func (s *tableStore) lookup(ctx context.Context, token []byte, timeout time.Duration) (*entry, error) {
	d := sha256.Sum256(token)
	now := s.now()
	s.mu.Lock()
	if el, ok := s.cache[d]; ok {
		c := el.Value.(*cachedKey)
		ttl := s.ttl
		if c.e == nil {
			ttl = s.negativeTTL
		}
		if now.Sub(c.at) < ttl {
			s.lru.MoveToFront(el)
			s.mu.Unlock()
			return c.e, nil
		}
	}
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	item, found, err := s.get.GetKeyItem(ctx, s.table, hex.EncodeToString(d[:]))
	cancel()
	if err != nil {
		return nil, err
	}
	var e *entry
	if found {
		if e, err = itemEntry(item, d); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.cache[d]; ok {
		s.lru.Remove(el)
	}
	s.cache[d] = s.lru.PushFront(&cachedKey{digest: d, e: e, at: now})
	for s.lru.Len() > s.maxCached {
		old := s.lru.Back()
		s.lru.Remove(old)
		delete(s.cache, old.Value.(*cachedKey).digest)
	}
	return e, nil
}

// noCurrentKey stands in for the current key of a client whose item is a
// rotated-out key: no token has this digest's preimage but this text,
// and the entry returned is always the looked-up digest's.
var noCurrentKey = Digest("tollgate: a rotated-out key's item names no current key")

// itemEntry is the entry of an item, built as a keyring's (newKeyTable),
// so that the table keeps every rule the keyring keeps: the route limits
// proven exact, an expiry, a rotated-out key's grace (ended by its
// client's expiry too), a disabled client.
func itemEntry(item KeyItem, d [32]byte) (*entry, error) {
	k := Key{ID: item.ID, SHA256: item.SHA256, Routes: item.Routes, UsageKey: item.UsageKey, Disabled: item.Disabled}
	if !item.Expires.IsZero() {
		exp := item.Expires
		k.Expires = &exp
	}
	if !item.Until.IsZero() {
		k.SHA256 = noCurrentKey
		k.Previous = []PreviousKey{{SHA256: item.SHA256, Until: item.Until}}
	}
	kr := Keyring{Keys: []Key{k}}
	limits, err := kr.validate()
	if err != nil {
		return nil, err
	}
	t, err := newKeyTable(kr, limits)
	if err != nil {
		return nil, err
	}
	want := digestWords(d)
	for i, w := range t.digests {
		if w == want {
			return t.entries[i], nil
		}
	}
	return nil, errBadItem
}
