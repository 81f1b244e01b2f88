// Package motoserver starts moto_server, a Secrets Manager emulator, for
// tests: on a free 127.0.0.1 port, waited for until it answers, and stopped
// (with every process it started) when the test ends.
//
// When moto_server is not installed the test fails, saying how to install
// it, unless the environment variable TOLLGATE_SKIP_MOTO is 1, when it is
// skipped (go test prints skips only with -v: a skip by default would let
// `go test ./...` say ok without a word). TOLLGATE_REQUIRE_MOTO=1 (as in
// CI) makes it a failure whatever TOLLGATE_SKIP_MOTO says.
package motoserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// RequireEnv is the variable that makes a missing moto_server a failure
// even with SkipEnv; SkipEnv makes it a skip.
const (
	RequireEnv = "TOLLGATE_REQUIRE_MOTO"
	SkipEnv    = "TOLLGATE_SKIP_MOTO"
)

// Install is how to install moto_server: moto 5's server extra
// (https://docs.getmoto.org/en/latest/docs/server_mode.html).
const Install = `pip install 'moto[server]>=5'`

// missing is what a test does without moto_server: skip it, or fail it,
// with the message to give.
func missing(getenv func(string) string) (skip bool, msg string) {
	if getenv(SkipEnv) == "1" && getenv(RequireEnv) != "1" {
		return true, "moto_server is not on the PATH (" + SkipEnv + "=1): skipped; install it with " + Install
	}
	if getenv(RequireEnv) == "1" {
		return false, "moto_server is required (" + RequireEnv + "=1) but not on the PATH: install it with " + Install
	}
	return false, "moto_server, the Secrets Manager and DynamoDB emulator this test runs against, is not on the PATH: install it with " +
		Install + ", or set " + SkipEnv + "=1 to skip the tests that need it"
}

// Server is a running moto_server.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:<port>.
	URL string
	cmd *exec.Cmd
}

// Start starts moto_server for t and stops it at t's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		if skip, msg := missing(os.Getenv); skip {
			t.Skip(msg)
		} else {
			t.Fatal(msg)
		}
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, to stop every child
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(s.Stop)

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			return s
		}
		select {
		case err := <-exited:
			t.Fatalf("moto_server exited before it answered: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 30s", s.URL)
		}
	}
}

// Stop ends the server and everything it started. It is safe to call more
// than once.
func (s *Server) Stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
}

// Client returns a Secrets Manager client for the server, with fixed test
// credentials and region, and the SDK's retries off so that faults show at
// once.
func (s *Server) Client() *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		RetryMaxAttempts: 1,
	})
}

// CreateSecret creates a secret holding value and returns its ARN.
func (s *Server) CreateSecret(t testing.TB, name, value string) string {
	t.Helper()
	out, err := s.Client().CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value),
	})
	if err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
	return aws.ToString(out.ARN)
}

// PutSecretValue writes a new version; Secrets Manager moves AWSCURRENT to
// it and AWSPREVIOUS to the version it replaced.
func (s *Server) PutSecretValue(t testing.TB, id, value string) {
	t.Helper()
	if _, err := s.Client().PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(id), SecretString: aws.String(value),
	}); err != nil {
		t.Fatalf("PutSecretValue %s: %v", id, err)
	}
}

// DeleteSecret deletes a secret at once, without a recovery window.
func (s *Server) DeleteSecret(t testing.TB, id string) {
	t.Helper()
	if _, err := s.Client().DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{
		SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true),
	}); err != nil {
		t.Fatalf("DeleteSecret %s: %v", id, err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
