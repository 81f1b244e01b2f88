package authorizer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
)

// The tollgate key format, made for leak detection in the manner of
// GitHub's token formats
// (https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/):
//
//	tgk_<32 random base62 characters><6 base62 characters of checksum>
//
// KeyPrefix marks a key as tollgate's, so that secret scanners (and people)
// recognise one in a log, a paste or a commit; the 32 random characters
// carry 190 bits (32·log2 62) from crypto/rand; the checksum is the CRC-32
// (IEEE) of everything before it, in base62, left-padded with '0' to 6
// characters. A scanner finds keys with KeyPattern and can drop false
// positives by checking the checksum (CheckKey) without any secret; the
// authorizer refuses a token with the prefix and a wrong checksum before
// any lookup, as a mistyped key.
const (
	KeyPrefix = "tgk_"
	// KeyPattern is a regular expression (RE2 and PCRE) that matches a
	// tollgate key in text.
	KeyPattern = `\btgk_[0-9A-Za-z]{38}\b`
	// KeyLength is the length of a tollgate key.
	KeyLength = len(KeyPrefix) + keyRandomChars + keyChecksumChars

	keyRandomChars   = 32
	keyChecksumChars = 6
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewKey returns a new key in the tollgate format.
func NewKey() string {
	b := make([]byte, 0, KeyLength)
	b = append(b, KeyPrefix...)
	// Rejection sampling keeps every character uniform: bytes of 248 and
	// above (248 = 4·62) would favour the first characters.
	var buf [64]byte
	for len(b) < len(KeyPrefix)+keyRandomChars {
		rand.Read(buf[:])
		for _, c := range buf {
			if c < 248 && len(b) < len(KeyPrefix)+keyRandomChars {
				b = append(b, base62[c%62])
			}
		}
	}
	return string(appendChecksum(b))
}

// KeyFromRandom makes a tollgate key of 32 base62 characters chosen
// elsewhere (such as a pulumi-random password of letters and digits) by
// adding the prefix and the checksum. It reports false if random is not 32
// base62 characters.
func KeyFromRandom(random string) (string, bool) {
	if len(random) != keyRandomChars {
		return "", false
	}
	for i := range len(random) {
		if !isAlnum(random[i]) {
			return "", false
		}
	}
	return string(appendChecksum(append([]byte(KeyPrefix), random...))), true
}

func appendChecksum(b []byte) []byte {
	sum := crc32.ChecksumIEEE(b)
	var c [keyChecksumChars]byte
	for i := keyChecksumChars - 1; i >= 0; i-- {
		c[i] = base62[sum%62]
		sum /= 62
	}
	return append(b, c[:]...)
}

// CheckKey reports whether key is in the tollgate format with a correct
// checksum. It needs no secret: anyone may run it to tell a real leak from
// text that only looks like one.
func CheckKey[S ~string | ~[]byte](key S) bool {
	if len(key) != KeyLength || string(key[:len(KeyPrefix)]) != KeyPrefix {
		return false
	}
	body := key[:KeyLength-keyChecksumChars]
	for i := len(KeyPrefix); i < len(key); i++ {
		if !isAlnum(key[i]) {
			return false
		}
	}
	var want [len(KeyPrefix) + keyRandomChars + keyChecksumChars]byte
	got := appendChecksum(append(want[:0], body...))
	return string(got[len(body):]) == string(key[len(body):])
}

// hasKeyPrefix reports whether a token claims to be a tollgate key.
func hasKeyPrefix(b []byte) bool {
	return len(b) >= len(KeyPrefix) && string(b[:len(KeyPrefix)]) == KeyPrefix
}

// Digest returns what a keyring stores for key: the lower-case hex SHA-256
// of its bytes.
func Digest(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}
