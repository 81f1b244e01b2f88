// Package lastuse finds, in a stage's access log, when each client last
// called and how often: the saved Logs Insights query the deploy makes
// (Query) and `tollkeys last-used` runs on AWS, and the same sums over a
// local run's access log file (Read).
package lastuse

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Client is one caller's use of the API in a period: its principal (a
// key's client id, a JWT's subject), its last request and its count.
type Client struct {
	Principal string    `json:"client"`
	Last      time.Time `json:"lastRequest"`
	Requests  int64     `json:"requests"`
}

// Query is the Logs Insights query of each principal's last request and
// request count in an access log whose principal is at principalKey
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html):
// API Gateway writes "-" for a request without one.
func Query(principalKey string) string {
	return fmt.Sprintf("fields @timestamp, %[1]s\n| filter ispresent(%[1]s) and %[1]s != \"-\" and %[1]s != \"\"\n| stats max(@timestamp) as lastUsed, count(*) as requests by %[1]s\n| sort lastUsed desc", principalKey)
}

// maxLine is the longest access log line Read takes; a longer one is
// skipped (API Gateway's own limit is far below).
const maxLine = 1 << 20

// Read sums the access log lines of r, JSON objects with the principal at
// principalKey and the request's time, in milliseconds since the epoch
// ($context.requestTimeEpoch), at timeKey: per principal, the requests
// in [from, to] and the last of them. Lines that are not such objects,
// and requests without a principal, are skipped.
func Read(r io.Reader, principalKey, timeKey string, from, to time.Time, into map[string]*Client) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		p, _ := line[principalKey].(string)
		if p == "" || p == "-" {
			continue
		}
		at, ok := epochMillis(line[timeKey])
		if !ok || at.Before(from) || at.After(to) {
			continue
		}
		c := into[p]
		if c == nil {
			c = &Client{Principal: p}
			into[p] = c
		}
		c.Requests++
		if at.After(c.Last) {
			c.Last = at
		}
	}
	if err := sc.Err(); err != nil && err != bufio.ErrTooLong {
		return err
	}
	return nil
}

// epochMillis reads a time in milliseconds since the epoch, a number or
// a quoted one (the access log quotes every value).
func epochMillis(v any) (time.Time, bool) {
	var ms int64
	switch v := v.(type) {
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		ms = n
	case float64:
		ms = int64(v)
	default:
		return time.Time{}, false
	}
	if ms <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}
