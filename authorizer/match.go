package authorizer

// The match: a loaded keyring as a table of digests, and the constant-time
// comparison of a presented token against every one of them.

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"time"
)

// Key versions, as the answer's context names them: the client's current
// key, or one replaced at a rotation and still within its grace.
const (
	versionCurrent  = "current"
	versionPrevious = "previous"
)

// entry is one key of a loaded keyring, with what its decisions need.
type entry struct {
	id       string
	version  string      // versionCurrent or versionPrevious
	limit    *routeLimit // the routes it may call; nil: the whole stage
	usageKey string
	// notAfter, when not zero, is when the key stops: its expiry, or the
	// end of a previous key's grace. refusal is the reason logged then.
	notAfter time.Time
	refusal  string
	disabled bool

	answers                 answerCache // REST Allow answers by stage prefix
	simpleAllow, simpleDeny []byte      // HTTP API answers
}

// Why a known key was refused.
const (
	reasonKeyDisabled   = "key disabled"
	reasonKeyExpired    = "key expired"
	reasonKeyRotatedOut = "key rotated out"
)

// usableAt reports why e may not be used at now ("" when it may).
func (e *entry) usableAt(now time.Time) string {
	switch {
	case e.disabled:
		return reasonKeyDisabled
	case !e.notAfter.IsZero() && !now.Before(e.notAfter):
		return e.refusal
	}
	return ""
}

// keyTable holds the digests of every loaded key, in one flat array so that
// comparing against all of them is a tight loop.
type keyTable struct {
	digests [][4]uint64
	entries []*entry
}

// newKeyTable indexes a validated keyring, with its keys' route limits
// (parseKeyring): every current and previous key of every client.
func newKeyTable(kr Keyring, limits []*routeLimit) (*keyTable, error) {
	t := &keyTable{}
	for i, k := range kr.Keys {
		d, err := k.digest()
		if err != nil { // Validate ran already; keep the check total
			return nil, fmt.Errorf("%w: key %q: %w", ErrMalformedKeyring, k.ID, err)
		}
		limit := limits[i]
		add := func(d [32]byte, version string, notAfter time.Time, refusal string) {
			e := &entry{id: k.ID, version: version, limit: limit, usageKey: k.UsageKey,
				notAfter: notAfter, refusal: refusal, disabled: k.Disabled}
			e.simpleAllow, e.simpleDeny = e.renderSimple(true), e.renderSimple(false)
			t.digests = append(t.digests, digestWords(d))
			t.entries = append(t.entries, e)
		}
		var expires time.Time
		if k.Expires != nil {
			expires = *k.Expires
		}
		add(d, versionCurrent, expires, reasonKeyExpired)
		for _, p := range k.Previous {
			pd, _ := parseDigest(p.SHA256)
			until, refusal := p.Until, reasonKeyRotatedOut
			if !expires.IsZero() && expires.Before(until) {
				until, refusal = expires, reasonKeyExpired // the client's expiry ends its grace too
			}
			add(pd, versionPrevious, until, refusal)
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
	if len(t.digests) == 0 {
		// An empty keyring (a key table's alone) matches nothing: no
		// digest to take, the table's lookup takes its own. How many
		// keys are stored is no secret (docs/security-model.md).
		return nil, false
	}
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
