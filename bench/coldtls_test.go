package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/emulator/lambdalocal"
	"tollgate/internal/emulator/localaws"
	"tollgate/internal/emulator/localsm"
	"tollgate/internal/testkit/testca"
)

// The conditions of a cold start on Lambda that a loopback endpoint lacks:
// Secrets Manager is reached over TLS, a network round trip away, and a
// 128 MB function has a fraction of a CPU.
const (
	coldRTT      = 20 * time.Millisecond
	coldMemoryMB = 128
)

// systemBundle is where Debian and Ubuntu keep the system's roots; the
// "as on Lambda" runs read it whole, as Amazon Linux's is read.
const systemBundle = "/etc/ssl/certs/ca-certificates.crt"

// tlsEndpoint is a Secrets Manager endpoint over TLS, with a certificate
// from a CA of its own, whose answers come a round trip late; and the root
// bundles a client may trust it with.
type tlsEndpoint struct {
	url, secretID string
	// awsBundle is the embedded Amazon Trust Services roots and the
	// endpoint's CA: what the authorizer verifies an AWS endpoint with.
	// systemBundle is the system's roots and the endpoint's CA: what
	// Go's default verification reads, as on Lambda.
	awsBundle, systemBundle string
	// noDir is an empty directory, for SSL_CERT_DIR.
	noDir string
}

// slowConn delays each write by the round trip: the answer to each of the
// client's flights (TLS handshake, request) arrives a round trip later;
// the first, by two (the TCP handshake's round trip too).
type slowConn struct {
	net.Conn
	rtt   time.Duration
	first sync.Once
}

func (c *slowConn) Write(p []byte) (int, error) {
	delay := c.rtt
	c.first.Do(func() { delay = 2 * c.rtt })
	time.Sleep(delay)
	return c.Conn.Write(p)
}

type slowListener struct {
	net.Listener
	rtt time.Duration
}

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &slowConn{Conn: c, rtt: l.rtt}, nil
}

func startTLSEndpoint(tb testing.TB, rtt time.Duration) *tlsEndpoint {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "keyring.json")
	if err := os.WriteFile(path, keyringDoc(1), 0o600); err != nil {
		tb.Fatal(err)
	}
	store, err := localsm.Open("tollgate/bench-tls", path, localaws.Region, localaws.AccountID, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ca := testca.New(tb)
	srv := httptest.NewUnstartedServer(store)
	srv.Listener = slowListener{Listener: srv.Listener, rtt: rtt}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(tb, time.Now().Add(24*time.Hour), "127.0.0.1")}, MinVersion: tls.VersionTLS12}
	// Each cold start makes its own connection, as a new process does.
	srv.Config.SetKeepAlivesEnabled(false)
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	e := &tlsEndpoint{url: srv.URL, secretID: store.ARN(), noDir: filepath.Join(dir, "nocerts")}
	if err := os.Mkdir(e.noDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	aws, err := os.ReadFile(filepath.Join("..", "authorizer", "tlsroots", "amazon-trust-services.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	system, err := os.ReadFile(systemBundle)
	if err != nil {
		tb.Skipf("no system root bundle at %s: %v", systemBundle, err)
	}
	e.awsBundle, e.systemBundle = filepath.Join(dir, "aws.pem"), filepath.Join(dir, "system.pem")
	for file, roots := range map[string][]byte{e.awsBundle: aws, e.systemBundle: system} {
		if err := os.WriteFile(file, bytes.Join([][]byte{roots, ca.PEM}, []byte("\n")), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return e
}

// env is a function's environment for this endpoint: with system, Go's
// default verification against the system's whole bundle (tollgate with
// TOLLGATE_TLS_ROOTS=system, and the peers, which never set roots);
// without, tollgate's own, against the AWS roots (the endpoint's CA
// standing in for the one an AWS endpoint chains to).
func (e *tlsEndpoint) env(tb testing.TB, system bool) map[string]string {
	env := (&endpoint{url: e.url, secretID: e.secretID}).env(tb)
	env["SSL_CERT_FILE"], env["SSL_CERT_DIR"] = e.systemBundle, e.noDir
	env[authorizer.EnvTLSRoots] = e.awsBundle
	if system {
		env[authorizer.EnvTLSRoots] = "system"
	}
	return env
}

// BenchmarkColdTLS is a whole-process cold start as on Lambda: the
// bootstrap started behind the Runtime API with the CPU of a 128 MB
// function (cpuLimit; where the machine cannot limit it, the full CPU, and
// the cpu-fraction metric says 1), reaching Secrets Manager over TLS a
// 20 ms round trip away. tollgate verifies the endpoint against its
// embedded AWS roots; tollgate-sysroots with TOLLGATE_TLS_ROOTS=system,
// as before; idiomatic with Go's default, the system's whole bundle; hello
// makes no call at all, the floor. cold-ns/op is exec to the first answer.
func BenchmarkColdTLS(b *testing.B) {
	ep := startTLSEndpoint(b, coldRTT)
	ev := event(b, "token", true)
	start, fraction, why := cpuLimit(b, coldMemoryMB)
	if why != "" {
		b.Log(why)
	}
	for _, impl := range []string{"tollgate", "tollgate-sysroots", "idiomatic", "hello"} {
		b.Run("TOKEN/"+impl, func(b *testing.B) {
			bin := "tollgate"
			if impl != "tollgate-sysroots" {
				bin = impl
			}
			env := ep.env(b, impl == "tollgate-sysroots")
			coldStarts(b, impl, ev, func(report func(lambdalocal.Report)) *lambdalocal.Pool {
				p, err := lambdalocal.NewPool(lambdalocal.Function{
					Name: impl, Binary: binary(b, bin), Env: env, MaxInstances: 1,
					Timeout: 30 * time.Second, InitTimeout: 30 * time.Second, Start: start, Report: report,
				})
				if err != nil {
					b.Fatal(err)
				}
				return p
			})
			b.ReportMetric(fraction, "cpu-fraction")
		})
	}
}

// The TLS endpoint is reached, over TLS, by the authorizer's client with
// the AWS bundle and with the system's: a check of the benchmark's setup.
func TestTLSEndpointServes(t *testing.T) {
	ep := startTLSEndpoint(t, 0)
	for _, system := range []bool{false, true} {
		env := ep.env(t, system)
		if system {
			env[authorizer.EnvTLSRoots] = ep.systemBundle // as the system's store would hold it
		}
		client, err := authorizer.SecretsManagerFromEnv(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		a, err := authorizer.New(authorizer.Config{Source: authorizer.SecretsManager(client, ep.secretID)})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Load(context.Background()); err != nil {
			t.Errorf("system bundle %v: %v", system, err)
		}
	}
	resp, err := http.Get(ep.url)
	if err == nil {
		_ = resp.Body.Close()
		t.Error("the endpoint answered a client that does not trust its CA")
	}
}
