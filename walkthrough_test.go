//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/emulator/local"
	"tollgate/internal/testkit/logsink"
	"tollgate/internal/testkit/modcopy"
	"tollgate/internal/testkit/testkeys"
	"tollgate/internal/testkit/waitfor"
)

// walkthrough is docs/your-own-api.md's steps, read as a user takes them.
type walkthrough struct {
	goFile            string // where step 1 saves the function
	goSource          string
	functions, routes string // the lines step 2 adds to api.yaml
	path              string // what step 3 asks for
	status            int    // and the answer it shows
	body              map[string]any
}

func readWalkthrough(t *testing.T) walkthrough {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("docs", "your-own-api.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "# Your own routes and functions\n")
	if !ok {
		t.Fatal("docs/your-own-api.md does not start with \"# Your own routes and functions\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := regexp.MustCompile("(?s)```(\\w+)\n(.*?)```").FindAllStringSubmatch(section, -1)
	var w walkthrough
	var yamls, shells []string
	for _, b := range blocks {
		switch b[1] {
		case "go":
			w.goSource = b[2]
		case "yaml":
			yamls = append(yamls, b[2])
		case "sh":
			shells = append(shells, b[2])
		}
	}
	save := regexp.MustCompile("Save this as `([^`]+)`").FindStringSubmatch(section)
	if save == nil || w.goSource == "" || len(yamls) != 2 || len(shells) != 2 {
		t.Fatalf("the walkthrough's steps are not where the test reads them: %d go, %d yaml, %d sh blocks", len(blocks)-len(yamls)-len(shells), len(yamls), len(shells))
	}
	w.goFile, w.functions, w.routes = save[1], yamls[0], yamls[1]
	if !strings.Contains(shells[0], "mkdir -p "+filepath.Dir(w.goFile)) {
		t.Errorf("step 1 does not make %s:\n%s", filepath.Dir(w.goFile), shells[0])
	}
	run := shells[1]
	if !strings.Contains(run, "go run ./cmd/local\n") {
		t.Errorf("step 3 does not run the local gateway:\n%s", run)
	}
	curl := regexp.MustCompile(`curl -i -H "Authorization: Bearer \$TOLLGATE_KEY" http://127\.0\.0\.1:8080(\S+)\n# (\d+) (\{.*\})`).FindStringSubmatch(run)
	if curl == nil {
		t.Fatalf("step 3 has no curl line with its answer:\n%s", run)
	}
	w.path = curl[1]
	if _, err := fmt.Sscan(curl[2], &w.status); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(curl[3]), &w.body); err != nil {
		t.Fatalf("step 3's answer %s: %v", curl[3], err)
	}
	return w
}

// insertAfter puts lines after the line "key:" of api.yaml.
func insertAfter(t *testing.T, doc, key, lines string) string {
	t.Helper()
	before, after, ok := strings.Cut(doc, "\n"+key+":\n")
	if !ok {
		t.Fatalf("api.yaml has no line %q", key+":")
	}
	return before + "\n" + key + ":\n" + lines + after
}

// TestWalkthrough follows docs/your-own-api.md's steps in a
// copy of the repository: the new route answers through the local run
// (with -watch, which then serves an edit of the function), and the mock
// deploy's plan holds the function, its permission and the route.
func TestWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function twice")
	}
	w := readWalkthrough(t)
	dir := modcopy.Copy(t, ".")

	// Step 1: the function.
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(w.goFile)), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, w.goFile)
	if err := os.WriteFile(src, []byte(w.goSource), 0o644); err != nil {
		t.Fatal(err)
	}
	// Step 2: api.yaml.
	b, err := os.ReadFile(filepath.Join(dir, "api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := insertAfter(t, insertAfter(t, string(b), "functions", w.functions), "routes", w.routes)
	if err := os.WriteFile(filepath.Join(dir, "api.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}

	// Step 3, locally: the page's key is the local run's development
	// key, whose client is local-dev.
	key := authorizer.NewKey()
	keys := filepath.Join(t.TempDir(), "keyring.json")
	if err := os.WriteFile(keys, testkeys.Keyring(1, testkeys.Key{ID: "local-dev", Key: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &logsink.Buffer{}
	m, err := local.Start(context.Background(), local.Config{
		Addr: "127.0.0.1:0", ModuleDir: dir, StateDir: filepath.Join(dir, ".tollgate"), KeysFile: keys,
		Watch: true, Out: out, FunctionLogs: out, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()
	for _, fn := range []string{"authorizer", "handler", "orders"} {
		if !regexp.MustCompile(`Building ` + fn + ` \(\S+\) for this machine… \d+\.\ds\n`).MatchString(out.String()) {
			t.Errorf("the first run does not say it built %s, and how long it took:\n%s", fn, out)
		}
	}
	status, body := get(t, m.URL+w.path, key)
	if status != w.status || fmt.Sprint(body) != fmt.Sprint(w.body) {
		t.Fatalf("GET %s = %d %v, want the page's %d %v\n%s", w.path, status, body, w.status, w.body, out)
	}
	if status, _ := get(t, m.URL+w.path, ""); status != http.StatusUnauthorized {
		t.Errorf("GET %s without a key = %d, want 401: the new route is protected", w.path, status)
	}

	// -watch: an edit is rebuilt and served; a broken one is reported and
	// the last build keeps serving.
	edited := strings.Replace(w.goSource, `"order": req.PathParameters["id"]`, `"order": req.PathParameters["id"], "edited": "yes"`, 1)
	if edited == w.goSource {
		t.Fatal("the walkthrough's function no longer has the line this test edits")
	}
	writeLater(t, src, edited)
	waitfor.Eventually(t, 2*time.Minute, 200*time.Millisecond, func() error {
		if _, body := get(t, m.URL+w.path, key); body["edited"] != "yes" {
			return fmt.Errorf("the edit is not served yet: %v\n%s", body, out)
		}
		return nil
	})
	rebuilt := regexp.MustCompile(`orders changed: rebuilt in \d+\.\ds; new requests run it\.`).FindString(out.String())
	if rebuilt == "" {
		t.Errorf("-watch does not say what it rebuilt:\n%s", out)
	}
	t.Log(rebuilt) // the figure docs/your-own-api.md gives
	writeLater(t, src, edited+"\nthis does not compile\n")
	waitfor.Eventually(t, 2*time.Minute, 200*time.Millisecond, func() error {
		if !strings.Contains(out.String(), "orders changed; the build failed, the last build keeps serving") {
			return fmt.Errorf("the broken edit is not reported yet:\n%s", out)
		}
		return nil
	})
	if _, body := get(t, m.URL+w.path, key); body["edited"] != "yes" {
		t.Errorf("after a broken edit the route answers %v; want the last good build", body)
	}
	_ = m.Close()
	writeLater(t, src, w.goSource)

	// Step 3, deployed: the mock deploy of the copy's dev stack.
	t.Chdir(dir)
	mocks, _, _, err := runProgram(t, devStack(t))
	if err != nil {
		t.Fatal(err)
	}
	plan := string(mocks.Plan(maskBuild))
	for _, want := range []string{
		`aws:lambda/function:Function tollgate-dev-orders`,
		`"name": "tollgate-dev-orders"`,
		`aws:iam/role:Role tollgate-dev-orders`,
		`"name": "/aws/lambda/tollgate-dev-orders"`,
		`/GET/orders/*"`,
		`/orders/{id}`,
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("the plan does not hold %s", want)
		}
	}
	if t.Failed() {
		t.Logf("plan:\n%s", plan)
	}
}

// writeLater writes a source file so that its modification time differs
// from the last write's, however coarse the file system's clock.
func writeLater(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url, key string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	return resp.StatusCode, body
}
