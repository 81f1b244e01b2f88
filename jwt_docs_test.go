package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/emulator/local"
	"tollgate/internal/lambdabuild"
	"tollgate/internal/testkit/logsink"
	"tollgate/internal/testkit/testkeys"
)

// docs/jwts.md's "Try it locally" runs as shown: the local run with the
// flags of its first block, then each line of the second, the tokens
// minted as mint mints them and each curl answered with the status its
// comment states.
func TestDocsJWTTryItLocally(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the functions")
	}
	b, err := os.ReadFile(filepath.Join("docs", "jwts.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Try it locally\n")
	if !ok {
		t.Fatal(`docs/jwts.md has no section "Try it locally"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) < 2 {
		t.Fatalf("want the run and the try blocks, found %d sh blocks", len(blocks))
	}
	start := regexp.MustCompile(`^go run \./cmd/local -jwt-local -jwt '([^']+)'\n$`).FindStringSubmatch(blocks[0][1])
	if start == nil {
		t.Fatalf("the first block is not go run ./cmd/local -jwt-local -jwt '…':\n%s", blocks[0][1])
	}
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	keys := filepath.Join(state, "keyring.json")
	if err := os.WriteFile(keys, testkeys.Keyring(1, testkeys.Key{ID: "local-dev", Key: authorizer.NewKey()}), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logsink.Buffer{}
	m, err := local.Start(context.Background(), local.Config{Addr: "127.0.0.1:0", ModuleDir: root, StateDir: state, KeysFile: keys,
		JWTLocal: true, JWT: start[1], Out: logs, FunctionLogs: logs, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()

	mint := regexp.MustCompile(`^export TOLLGATE_JWT=\$\(go run \./cmd/local mint -sub (\S+) -scope (\S+)\)$`)
	curl := regexp.MustCompile(`^curl -i (?:-X (\w+) )?-H "Authorization: Bearer (\S+)"(?: -H "Content-Type: application/json" -d '(\{\})')? http://127\.0\.0\.1:8080(\S+) +# (\d{3})\b(.*)$`)
	var token string
	curls := 0
	for _, line := range strings.Split(strings.TrimSpace(blocks[1][1]), "\n") {
		if c := mint.FindStringSubmatch(line); c != nil {
			if token, err = local.Mint(state, c[1], c[2], nil, time.Hour); err != nil {
				t.Fatal(err)
			}
			continue
		}
		c := curl.FindStringSubmatch(line)
		if c == nil {
			t.Fatalf("a line the test cannot run: %s", line)
		}
		sent := map[string]string{
			"$TOLLGATE_JWT":       token,
			"${TOLLGATE_JWT%.*}.": token[:strings.LastIndexByte(token, '.')+1],
		}[c[2]]
		if sent == "" {
			t.Fatalf("a token expression the test does not know: %s", c[2])
		}
		method := "GET"
		if c[1] != "" {
			method = c[1]
		}
		req, err := http.NewRequest(method, m.URL+c[4], strings.NewReader(c[3]))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+sent)
		if c[3] != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := new(strings.Builder)
		_, _ = io.Copy(body, resp.Body)
		_ = resp.Body.Close()
		want, _ := strconv.Atoi(c[5])
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s, docs/jwts.md says %d\n%s", line, resp.StatusCode, body, want, logs)
		}
		if msg := regexp.MustCompile(`"message":"[^"]*"`).FindString(c[6]); msg != "" && !strings.Contains(body.String(), msg) {
			t.Errorf("%s: %s, docs/jwts.md says %s", line, body, msg)
		}
		curls++
	}
	if curls < 3 {
		t.Errorf("%d curl lines, want at least an allow, a deny and a refusal", curls)
	}
}
