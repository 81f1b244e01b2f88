//go:build unix

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/launch"
	"tollgate/internal/testkit/logsink"
	"tollgate/internal/testkit/testkeys"
	"tollgate/internal/testkit/waitfor"
)

// userModule makes a module of a user's own that requires this checkout
// (README's "Using the component"), with one function, hello, answering
// body, and its api.yaml serving it on GET /hello, public. The go command
// is pointed at the module cache, offline, as the AWS SDK's modules are
// there already; once go get has written go.mod and go.sum, nothing
// changes them (-mod=readonly, the default), as on a user's machine.
func userModule(t *testing.T, body string) string {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	user := t.TempDir()
	write(t, filepath.Join(user, "go.mod"), "module example.com/myapi\n\ngo 1.26\n\nrequire tollgate v0.0.0\n\nreplace tollgate => "+root+"\n")
	write(t, filepath.Join(user, "hello", "main.go"), helloSource(body))
	write(t, filepath.Join(user, "api.yaml"), userAPI)
	cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(filepath.Join(strings.TrimSpace(string(cache)), "cache", "download")))
	t.Setenv("GOSUMDB", "off")
	get := exec.Command("go", "get", "tollgate/cmd/local", "tollgate/cmd/authorizer", "github.com/aws/aws-lambda-go/lambda")
	get.Dir, get.Env = user, append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := get.CombinedOutput(); err != nil {
		t.Fatalf("go get in the user's module: %v\n%s", err, out)
	}
	return user
}

const userAPI = `functions:
  hello:
    package: ./hello
routes:
  - route: GET /hello
    function: hello
    public: true
`

func helloSource(body string) string {
	return `package main

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: "` + body + `"}, nil
	})
}
`
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 27: `go run ./cmd/local -watch`, as a user runs it from a module of
// their own. Until the gateway can answer, the port refuses connections
// (a request fails at once rather than hang through the build); an edit
// saved at once after the first answer is rebuilt and served (the sources
// are recorded before the first build, not after the first answer); a
// route added to api.yaml is served; Ctrl-C stops it without an error.
func TestGoRunWatchServesEveryEdit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs cmd/local with go run in a module of its own")
	}
	user := userModule(t, "first")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	out := &logsink.Buffer{}
	cmd := exec.Command("go", "run", "tollgate/cmd/local", "-watch", "-addr", addr, "-keys", filepath.Join(user, "keyring.json"))
	write(t, filepath.Join(user, "keyring.json"), string(testkeys.Keyring(1, testkeys.Key{ID: "c", Key: authorizer.NewKey()})))
	cmd.Dir, cmd.Stdout, cmd.Stderr = user, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	}()

	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	waitfor.Eventually(t, 5*time.Minute, 100*time.Millisecond, func() error {
		select {
		case err := <-exited:
			t.Fatalf("go run ended before answering: %v", err)
		default:
		}
		status, body, err := get("/hello")
		if err != nil {
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("before the first answer, a request = %v; want the connection refused", err)
			}
			return err
		}
		if status != 200 || body != "first" {
			t.Fatalf("GET /hello = %d %q, want 200 first", status, body)
		}
		return nil
	})

	// At once after the first answer: an edit of the function.
	write(t, filepath.Join(user, "hello", "main.go"), helloSource("second"))
	waitfor.Eventually(t, 3*time.Minute, 200*time.Millisecond, func() error {
		if status, body, err := get("/hello"); err != nil || status != 200 || body != "second" {
			return fmt.Errorf("GET /hello = %d %q, %v; want the edit served", status, body, err)
		}
		return nil
	})
	// A route added to api.yaml.
	write(t, filepath.Join(user, "api.yaml"), userAPI+"  - route: GET /bye\n    function: hello\n    public: true\n")
	waitfor.Eventually(t, 3*time.Minute, 200*time.Millisecond, func() error {
		if status, body, err := get("/bye"); err != nil || status != 200 || body != "second" {
			return fmt.Errorf("GET /bye = %d %q, %v; want the new route served", status, body, err)
		}
		return nil
	})
	if !strings.Contains(out.String(), "api.yaml changed") {
		t.Errorf("the change of api.yaml is not reported")
	}

	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil { // Ctrl-C: the whole foreground group
		t.Fatal(err)
	}
	select {
	case <-exited:
		// The go command's own status is 1 after an interrupt, whatever
		// the program's (cmd/go/internal/work/exec.go, on
		// base.Interrupted): what the run printed is checked instead.
	case <-time.After(30 * time.Second):
		t.Fatal("go run did not exit on Ctrl-C")
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, `{"requestId"`) {
			if strings.Contains(line, `"status":"5`) {
				t.Errorf("a request failed: %s", line)
			}
			continue // the access log: errorType and errorMessage are "-"
		}
		for _, bad := range []string{"error", "Error", "fail", "Fail"} {
			if strings.Contains(line, bad) {
				t.Errorf("the run printed %q", line)
			}
		}
	}
	if n := strings.Count(out.String(), launch.FirstBuildNote); n > 1 {
		t.Errorf("the first-build note was printed %d times", n)
	}
}
