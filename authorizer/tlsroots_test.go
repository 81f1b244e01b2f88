package authorizer

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tollgate/internal/testkit/testca"
)

// The embedded roots are the five of Amazon Trust Services, as
// https://www.amazontrust.com/repository/ lists them (subject and SHA-256
// fingerprint), each a self-signed CA that has not expired.
func TestEmbeddedRoots(t *testing.T) {
	want := map[string]string{
		"CN=Amazon Root CA 1,O=Amazon,C=US": "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
		"CN=Amazon Root CA 2,O=Amazon,C=US": "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
		"CN=Amazon Root CA 3,O=Amazon,C=US": "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
		"CN=Amazon Root CA 4,O=Amazon,C=US": "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
		"CN=Starfield Services Root Certificate Authority - G2,O=Starfield Technologies\\, Inc.,L=Scottsdale,ST=Arizona,C=US": "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
	}
	rest := amazonTrustPEM
	seen := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(c.Raw)
		subject := c.Subject.String()
		if want[subject] != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: SHA-256 %x, want %s", subject, sum, want[subject])
		}
		if !c.IsCA || c.CheckSignatureFrom(c) != nil || time.Now().After(c.NotAfter) {
			t.Errorf("%s: CA %v, self-signed %v, until %s", subject, c.IsCA, c.CheckSignatureFrom(c) == nil, c.NotAfter)
		}
		seen++
	}
	if seen != len(want) {
		t.Errorf("%d roots embedded, want %d", seen, len(want))
	}
	if amazonRoots() == nil {
		t.Fatal("no pool")
	}
}

// tlsServer is a TLS server on 127.0.0.1 with a certificate from ca for
// names, valid until notAfter, answering GetSecretValue with a keyring
// holding testTLSKey.
func tlsServer(t *testing.T, ca *testca.CA, notAfter time.Time, names ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-abcdef", "Name": "s", "VersionId": "v1",
			"SecretString": `{"keys":[{"id":"tls","sha256":"` + Digest(testTLSKey) + `"}]}`, "VersionStages": []string{StageCurrent},
		})
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t, notAfter, names...)}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// caFile writes ca's certificate to a PEM file.
func caFile(t *testing.T, ca *testca.CA) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const testTLSKey = "tg_test_tls_roots_key_0123456789abcdefghij"

// load reads the keys through SecretsManagerFromEnv's client at url with
// the roots setting roots.
func loadOverTLS(t *testing.T, url, roots string) error {
	t.Helper()
	env := map[string]string{
		EnvAWSRegion: "eu-west-1", EnvAWSAccessKeyID: "AKIDTEST", EnvAWSSecretAccessKey: "test",
		EnvAWSEndpoint: url, EnvTLSRoots: roots,
	}
	client, err := SecretsManagerFromEnv(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	a, err := New(Config{Source: SecretsManager(client, "s"), FetchTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return a.Load(ctx)
}

// Through the client a Lambda function gets: a bundle named by
// EnvTLSRoots is trusted, alone; the embedded roots and the system's do
// not trust a private CA, so the default refuses it (fails closed); the
// host name is verified for an IP address too; an expired certificate is
// refused; a bad setting is an error naming the variable.
func TestTLSRootsSetting(t *testing.T) {
	ca := testca.New(t)
	bundle := caFile(t, ca)
	good := tlsServer(t, ca, time.Now().Add(time.Hour), "127.0.0.1", "localhost")
	otherName := tlsServer(t, ca, time.Now().Add(time.Hour), "secretsmanager.eu-west-1.amazonaws.com")
	expired := tlsServer(t, ca, time.Now().Add(-time.Hour), "127.0.0.1")
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, url, roots string
		want             string // "" for success, or in the error
	}{
		{"the bundle named", good.URL, bundle, ""},
		{"by name, with the bundle", strings.Replace(good.URL, "127.0.0.1", "localhost", 1), bundle, ""},
		{"default: AWS's roots, then the system's", good.URL, "", "certificate signed by unknown authority"},
		{"aws", good.URL, "aws", "certificate signed by unknown authority"},
		{"system", good.URL, "system", "certificate signed by unknown authority"},
		{"another host's certificate, at an IP address", otherName.URL, bundle, "127.0.0.1"},
		{"expired", expired.URL, bundle, "expired"},
		{"no such bundle", good.URL, filepath.Join(t.TempDir(), "none.pem"), EnvTLSRoots},
		{"not PEM", good.URL, empty, EnvTLSRoots},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := loadOverTLS(t, tt.url, tt.roots)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("load: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("load: %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// The system's roots are read only when the embedded ones do not verify
// the chain, and then once.
func TestTLSRootsFallBackOnce(t *testing.T) {
	ca := testca.New(t)
	srv := tlsServer(t, ca, time.Now().Add(time.Hour), "127.0.0.1")
	caPool := x509.NewCertPool()
	caPool.AddCert(ca.Cert)
	var loads atomic.Int32
	fallback := func(pool *x509.CertPool, err error) func() (*x509.CertPool, error) {
		return func() (*x509.CertPool, error) { loads.Add(1); return pool, err }
	}
	connect := func(v *rootVerifier) error {
		tr := &http.Transport{}
		v.apply(tr, 5*time.Second)
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(srv.URL)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}
	if err := connect(&rootVerifier{primary: caPool, fallback: fallback(nil, errors.New("must not be read"))}); err != nil || loads.Load() != 0 {
		t.Errorf("verified by the primary roots: %v; the fallback read %d times, want 0", err, loads.Load())
	}
	v := &rootVerifier{primary: amazonRoots(), fallback: fallback(caPool, nil)}
	if err := connect(v); err != nil || loads.Load() != 1 {
		t.Errorf("verified by the fallback: %v; read %d times, want 1", err, loads.Load())
	}
	if err := connect(&rootVerifier{primary: amazonRoots(), fallback: fallback(x509.NewCertPool(), nil)}); err == nil {
		t.Error("a chain neither pool trusts was accepted")
	}
	if err := connect(&rootVerifier{primary: amazonRoots(), fallback: fallback(nil, errors.New("no system roots"))}); err == nil || !strings.Contains(err.Error(), "no system roots") {
		t.Errorf("the fallback failing: %v", err)
	}
}
