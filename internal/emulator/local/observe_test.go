//go:build unix

package local

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tollgate/internal/testkit/waitfor"
)

// metricsOf reads the run's metric sums from its control endpoint, with
// its credentials (or, for a test of them, another access key).
func metricsOf(m *Main, accessKey string) (int, []MetricSum, error) {
	req, _ := http.NewRequest(http.MethodGet, m.ControlURL+MetricsPath, nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+accessKey+"/20261206/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct{ Metrics []MetricSum }
	if resp.StatusCode == http.StatusOK {
		err = json.NewDecoder(resp.Body).Decode(&out)
	}
	return resp.StatusCode, out.Metrics, err
}

// sum is one series' sum, by metric name and dimensions "k=v" joined by
// ",", in sorted order.
func sum(ms []MetricSum, name, dims string) float64 {
	for _, m := range ms {
		var kv []string
		for _, k := range []string{"function", "outcome", "reason"} {
			if v, ok := m.Dimensions[k]; ok {
				kv = append(kv, k+"="+v)
			}
		}
		if m.Name == name && strings.Join(kv, ",") == dims {
			return m.Sum
		}
	}
	return 0
}

// Issue 31: a local run counts the authorizer's decisions from its
// metric lines, as CloudWatch would, and reports them on its control
// endpoint (to its own credentials only); its access log is kept in the
// state directory for tollkeys last-used.
func TestLocalMetricsAndAccessLog(t *testing.T) {
	m := start(t, nil)
	send(t, m, "GET", "/hello", "Bearer "+mobileKey, "")
	send(t, m, "GET", "/hello", "Bearer "+wrongKey, "")
	send(t, m, "GET", "/hello", "Bearer "+wrongKey+"x", "")
	send(t, m, "GET", "/health", "", "")
	var got []MetricSum
	waitfor.Eventually(t, 30*time.Second, 100*time.Millisecond, func() error {
		status, ms, err := metricsOf(m, m.controlID)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("%d %v", status, err)
		}
		got = ms
		if sum(ms, "Decisions", "function=authorizer,outcome=unauthorized") < 2 || sum(ms, "Decisions", "function=authorizer,outcome=allow") < 1 {
			return fmt.Errorf("not yet counted: %+v", ms)
		}
		return nil
	})
	if n := sum(got, "Decisions", "function=authorizer,reason=unknown key"); n != 2 {
		t.Errorf("unknown key refusals %v, want 2: %+v", n, got)
	}
	if n := sum(got, "ColdStarts", "function=authorizer"); n < 1 {
		t.Errorf("cold starts %v, want at least 1", n)
	}
	if status, _, _ := metricsOf(m, "AKIDSOMEONEELSE"); status != http.StatusForbidden {
		t.Errorf("metrics to another access key: %d, want 403", status)
	}

	b, err := os.ReadFile(AccessLogFile(m.cfg.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) != 4 {
		t.Fatalf("%d access log lines, want 4:\n%s", len(lines), b)
	}
	var first map[string]string
	if err := json.Unmarshal(lines[0], &first); err != nil || first["principalId"] != "mobile-app" || first["status"] != "200" {
		t.Errorf("first line %s (%v)", lines[0], err)
	}
	if bytes.Contains(b, []byte(mobileKey)) || bytes.Contains(b, []byte(wrongKey)) {
		t.Error("a key reached the access log")
	}
}

// The access log file is moved aside past its size and begun again: a
// long local run does not fill the disk.
func TestAccessLogFileRotates(t *testing.T) {
	dir := t.TempDir()
	f, err := openAccessLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	f.size = maxAccessLog - 10 // as if the file were nearly full
	line := []byte(`{"requestId":"r1"}` + "\n")
	if _, err := f.Write(line); err != nil {
		t.Fatal(err)
	}
	old, err1 := os.ReadFile(AccessLogFile(dir) + ".1")
	cur, err2 := os.ReadFile(AccessLogFile(dir))
	if err1 != nil || err2 != nil || len(old) != 0 || string(cur) != string(line) {
		t.Errorf("after rotation: old %q (%v), current %q (%v)", old, err1, cur, err2)
	}
	if fi, err := os.Stat(filepath.Join(dir, "access.log")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("access log mode: %v %v", fi, err)
	}
}
