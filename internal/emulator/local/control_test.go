//go:build unix

package local

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tollgate/internal/testkit/logsink"
)

// Issue 26, defect 9: the local control endpoint answered anyone: any
// local user could recycle the authorizer, flush its cache and read the
// TOLLGATE_* settings. It answers only requests signed with the run's own
// credentials (written, for tollkeys refresh, to the state directory's
// control.json, 0600); the local issuer's JWKS stays public, as an
// issuer's is.
func TestControlEndpointNeedsTheRunsCredentials(t *testing.T) {
	m := start(t, func(c *Config) { c.JWTLocal = true })
	for _, r := range []struct{ method, path string }{
		{"GET", "/2015-03-31/functions/authorizer/configuration"},
		{"PUT", "/2015-03-31/functions/authorizer/configuration"},
		{"DELETE", "/restapis/" + m.Gateway().APIID() + "/stages/" + m.Definition().Stage + "/cache/authorizers"},
	} {
		for name, auth := range map[string]string{
			"no signature":       "",
			"another access key": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0",
		} {
			req, _ := http.NewRequest(r.method, m.ControlURL+r.path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s, %s: %d, want 403", r.method, r.path, name, resp.StatusCode)
			}
		}
	}
	resp, err := client.Get(m.ControlURL + jwksPath)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the local issuer's JWKS: %d, want 200 without credentials", resp.StatusCode)
	}
}

// With -jwt-local, a fresh state directory, which holds the issuer's
// private key, is created 0700.
func TestStateDirectoryIsPrivate(t *testing.T) {
	state := filepath.Join(t.TempDir(), "fresh", ".tollgate")
	if _, err := localIssuer(state); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("state directory %s is %v, want 0700", state, perm)
	}
}

// Issue 27: Ctrl-C with warm instances printed a function error for each
// (the runtime's "failed to parse deadline", the authorizer's extension
// stopping): stopping the local run is silent.
func TestCloseIsSilent(t *testing.T) {
	logs := &logsink.Buffer{}
	m := start(t, func(c *Config) { c.FunctionLogs = logs })
	var wg sync.WaitGroup
	for range 12 { // at once: several warm instances of each function
		wg.Go(func() {
			if a, err := trySend(m, "GET", "/hello", "Bearer "+mobileKey, ""); err != nil || a.status != 200 {
				t.Errorf("GET /hello: %v %d %s", err, a.status, a.raw)
			}
		})
	}
	wg.Wait()
	before := len(logs.String())
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if after := logs.String()[before:]; strings.Contains(after, "ERROR") || strings.Contains(after, "error") || strings.Contains(after, "failed") {
		t.Errorf("stopping logged:\n%s", after)
	}
}
