// Package reqid makes request ids shaped like AWS's: random (version 4)
// UUIDs, such as "c6af9ac6-7b61-41e6-9a41-93e8deadbeef".
package reqid

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// New returns a new random UUID in its canonical text form.
func New() string {
	var u [16]byte
	rand.Read(u[:]) // never fails; see crypto/rand.Read
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// TraceID is the root of an X-Ray trace header (X-Amzn-Trace-Id) for the
// request with id New gave, started at t: "Root=1-<t in hex seconds>-<the
// id's first 24 hex digits>".
func TraceID(id string, t time.Time) string {
	return "Root=1-" + strconv.FormatInt(t.Unix(), 16) + "-" + strings.ReplaceAll(id, "-", "")[:24]
}
