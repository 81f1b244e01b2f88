package lastuse

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	from, to := time.UnixMilli(1000).UTC(), time.UnixMilli(9000).UTC()
	log := strings.Join([]string{
		`{"principalId":"mobile","requestTime":"2000"}`,
		`{"principalId":"mobile","requestTime":"5000"}`,
		`{"principalId":"mobile","requestTime":"3000"}`,
		`{"principalId":"reports","requestTime":8000}`,
		`{"principalId":"-","requestTime":"4000"}`,       // no principal: a public route
		`{"principalId":"","requestTime":"4000"}`,        // none either
		`{"principalId":"old","requestTime":"500"}`,      // before the period
		`{"principalId":"late","requestTime":"9001"}`,    // after it
		`{"principalId":"notime"}`,                       // no time
		`{"principalId":"badtime","requestTime":"soon"}`, // not a time
		`not json`,
		`{"principalId":"huge","requestTime":"6000","pad":"` + strings.Repeat("x", maxLine) + `"}`,
	}, "\n")
	got := map[string]*Client{}
	if err := Read(strings.NewReader(log), "principalId", "requestTime", from, to, got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["mobile"].Requests != 3 || !got["mobile"].Last.Equal(time.UnixMilli(5000)) ||
		got["reports"].Requests != 1 || !got["reports"].Last.Equal(time.UnixMilli(8000)) {
		t.Errorf("got %v", got)
	}
}

func TestQueryNamesTheKey(t *testing.T) {
	q := Query("caller")
	if strings.Count(q, "caller") != 5 || !strings.Contains(q, "stats max(@timestamp) as lastUsed, count(*) as requests by caller") {
		t.Errorf("query %q", q)
	}
}

// Read never fails on any input, counts at most one request a line, and
// its last request is always within the period.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"principalId":"a","requestTime":"5000"}` + "\n" + `{"principalId":"a","requestTime":7000}`))
	f.Add([]byte(`{"principalId":"-"}`))
	from, to := time.UnixMilli(1000), time.UnixMilli(9000)
	f.Fuzz(func(t *testing.T, b []byte) {
		got := map[string]*Client{}
		if err := Read(bytes.NewReader(b), "principalId", "requestTime", from, to, got); err != nil {
			t.Fatal(err)
		}
		var n int64
		for p, c := range got {
			n += c.Requests
			if p == "" || p == "-" || c.Last.Before(from) || c.Last.After(to) {
				t.Errorf("client %q last %v", p, c.Last)
			}
		}
		if lines := int64(bytes.Count(b, []byte("\n")) + 1); n > lines {
			t.Errorf("%d requests from %d lines", n, lines)
		}
	})
}

func ExampleRead() {
	log := `{"principalId":"mobile","requestTime":"1765044000000"}
{"principalId":"mobile","requestTime":"1765047600000"}
{"principalId":"-","requestTime":"1765047600000"}`
	clients := map[string]*Client{}
	_ = Read(strings.NewReader(log), "principalId", "requestTime", time.Unix(0, 0), time.Now(), clients)
	fmt.Println(clients["mobile"].Requests, clients["mobile"].Last.Format(time.RFC3339))
	// Output: 2 2025-12-06T19:00:00Z
}
