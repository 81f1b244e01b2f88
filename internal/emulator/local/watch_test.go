//go:build unix

package local

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tollgate/internal/lambdabuild"
	"tollgate/internal/testkit/logsink"
	"tollgate/internal/testkit/waitfor"
)

// Issue 27: under -watch, an edit of the API file is served: a refused
// edit is reported and the last good definition keeps serving; a route
// added is served by the function's warm pool; a function's new settings
// get a new pool; a route removed is gone. (The root package's
// TestGoRunWatchServesEveryEdit does the same through go run, and edits a
// function's source.)
func TestWatchServesEditsOfTheAPIFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the functions from source")
	}
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	apiFile := filepath.Join(t.TempDir(), "my-api.yaml")
	const first = "functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: GET /health\n    function: handler\n    public: true\n"
	writeFile(t, apiFile, []byte(first))
	out := &logsink.Buffer{}
	m := start(t, func(c *Config) {
		c.BinDir, c.ModuleDir, c.APIFile, c.Watch, c.Out = "", root, apiFile, true, out
	})
	if !strings.Contains(out.String(), "Watching the functions' sources and "+apiFile) {
		t.Errorf("-watch does not say it watches the API file:\n%s", out)
	}
	want(t, send(t, m, "GET", "/health", "", ""), 200, "", "")
	warm := m.Pool("handler")

	writeFile(t, apiFile, []byte(first+"  - route: GET /health\n    function: nope\n"))
	waitfor.Eventually(t, time.Minute, 50*time.Millisecond, func() error {
		if !strings.Contains(out.String(), apiFile+" changed; it is not served, the last good definition keeps serving:\n"+apiFile+": ") {
			return fmt.Errorf("the refused edit is not reported (naming the file) yet:\n%s", out)
		}
		return nil
	})
	want(t, send(t, m, "GET", "/health", "", ""), 200, "", "")

	writeFile(t, apiFile, []byte(first+"  - route: GET /status\n    function: handler\n    public: true\n"))
	waitfor.Eventually(t, time.Minute, 50*time.Millisecond, status(m, "/status", "", 200))
	if m.Pool("handler") != warm {
		t.Error("a new route of an unchanged function started a new pool; want its warm instances kept")
	}
	if !strings.Contains(out.String(), "    added GET /status: curl -i "+m.URL+"/status\n") {
		t.Errorf("the added route is not shown with its curl line:\n%s", out)
	}

	writeFile(t, apiFile, []byte(strings.Replace(first, "package: ./cmd/handler\n", "package: ./cmd/handler\n    env: {GREETING: hi}\n", 1)))
	waitfor.Eventually(t, time.Minute, 50*time.Millisecond, status(m, "/status", "", 403))
	if m.Pool("handler") == warm {
		t.Error("a function's new environment kept its old pool")
	}
	if got := m.cur.Load().env["handler"]["GREETING"]; got != "hi" {
		t.Errorf("the handler's GREETING = %q", got)
	}
	want(t, send(t, m, "GET", "/health", "", ""), 200, "", "")
	waitfor.Eventually(t, time.Minute, 50*time.Millisecond, func() error {
		if warm.Stats().Instances != 0 {
			return fmt.Errorf("the replaced pool still has %d instances", warm.Stats().Instances)
		}
		return nil
	})
	if _, err := warm.Invoke(context.Background(), []byte("{}")); err == nil {
		t.Error("the replaced pool still invokes: it was not closed")
	}
}
