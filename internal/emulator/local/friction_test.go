//go:build unix

package local

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/testkit/logsink"
	"tollgate/internal/testkit/testkeys"
	"tollgate/internal/testkit/waitfor"
)

// Issue 16: KeyTTL (cmd/local -key-ttl) reaches the authorizer, so a
// rotation is tried in seconds: the old key stops and the new one works
// well within the default 5-minute key TTL.
func TestKeyTTLShortensRotation(t *testing.T) {
	oldKey, newKey := authorizer.NewKey(), authorizer.NewKey()
	noCache := time.Duration(0)
	var keys string
	m := start(t, func(c *Config) {
		c.TTL, c.KeyTTL = &noCache, time.Second
		keys = c.KeysFile
		writeFile(t, keys, testkeys.Keyring(1, testkeys.Key{ID: "rotating", Key: oldKey}))
	})
	if got := m.cur.Load().env["authorizer"][authorizer.EnvKeyTTL]; got != "1s" {
		t.Fatalf("the authorizer's %s = %q, want 1s", authorizer.EnvKeyTTL, got)
	}
	want(t, send(t, m, "GET", "/hello", "Bearer "+oldKey, ""), 200, "rotating", "")
	writeFile(t, keys, testkeys.Keyring(1, testkeys.Key{ID: "rotating", Key: newKey}))
	waitfor.Eventually(t, 30*time.Second, 100*time.Millisecond, status(m, "/hello", "Bearer "+newKey, 200))
	want(t, send(t, m, "GET", "/hello", "Bearer "+oldKey, ""), 401, "UNAUTHORIZED", "Unauthorized")
}

// Issue 16: a broken edit of the keyring file is reported when the file
// changes, not at the authorizer's next read (up to its key TTL later).
func TestBrokenKeyringEditReportedAtOnce(t *testing.T) {
	logs := &logsink.Buffer{}
	var keys string
	m := start(t, func(c *Config) {
		keys = c.KeysFile
		c.FunctionLogs = logs
	})
	writeFile(t, keys, []byte(`{"keys":[{"id":"broken"}]}`))
	waitfor.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		if !strings.Contains(logs.String(), "keyring file changed to an invalid keyring") {
			return fmt.Errorf("not reported yet:\n%s", logs)
		}
		return nil
	})
	if n := invocations(m, "authorizer"); n != 0 {
		t.Errorf("the authorizer ran %d times; the report must not wait for a request", n)
	}
}

// Issue 16: a wrong secret id or an unreachable endpoint stops the start,
// with a message saying which, instead of a 500 on the first request.
func TestSecretCheckedAtStart(t *testing.T) {
	notFound := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
	}))
	defer notFound.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()

	for _, tt := range []struct{ name, endpoint, want string }{
		{"wrong secret id", notFound.URL, "not found at " + notFound.URL + " (check -secret-id"},
		{"unreachable endpoint", closed, "cannot read it from " + closed + " (check -secrets-endpoint"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			_, err := Start(context.Background(), Config{
				Addr: "127.0.0.1:0", BinDir: binDir, StateDir: t.TempDir(), Out: &out,
				SecretsEndpoint: tt.endpoint, SecretID: "tollgate/wrong",
				AuthorizerEnv: map[string]string{"TOLLGATE_FETCH_TIMEOUT": "1s"},
				Getenv:        func(string) string { return "" },
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"tollgate/wrong"`) {
				t.Fatalf("Start = %v, want an error naming the secret and %q", err, tt.want)
			}
		})
	}
}

// Issue 16: with a keyring of the user's (-keys FILE), the curl lines'
// $TOLLGATE_KEY is explained: it is a key of that file, to set first.
func TestRoutesSayWhereTheKeyComesFrom(t *testing.T) {
	var keys string
	m := start(t, func(c *Config) { keys = c.KeysFile })
	var out strings.Builder
	m.Routes(&out)
	if !strings.Contains(out.String(), "Protected routes take a key of "+keys) ||
		!strings.Contains(out.String(), "export TOLLGATE_KEY=<a key of keyring.json>") {
		t.Errorf("routes with -keys do not say where the key comes from:\n%s", out.String())
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".next")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // atomic, as an editor saves
		t.Fatal(err)
	}
}
