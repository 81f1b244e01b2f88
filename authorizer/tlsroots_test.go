package authorizer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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

// testCA is a certificate authority of a test's own, and a server
// certificate from it.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pemFile string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tollgate test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pemFile: path}
}

// server is a TLS server on 127.0.0.1 with a certificate from ca for
// names (DNS names or IP addresses), valid until notAfter, answering
// GetSecretValue with a keyring holding envKey.
func (ca *testCA) server(t *testing.T, notAfter time.Time, names ...string) *httptest.Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-abcdef", "Name": "s", "VersionId": "v1",
			"SecretString": `{"keys":[{"id":"tls","sha256":"` + Digest(testTLSKey) + `"}]}`, "VersionStages": []string{StageCurrent},
		})
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
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
	ca := newTestCA(t)
	good := ca.server(t, time.Now().Add(time.Hour), "127.0.0.1", "localhost")
	otherName := ca.server(t, time.Now().Add(time.Hour), "secretsmanager.eu-west-1.amazonaws.com")
	expired := ca.server(t, time.Now().Add(-time.Hour), "127.0.0.1")
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, url, roots string
		want             string // "" for success, or in the error
	}{
		{"the bundle named", good.URL, ca.pemFile, ""},
		{"by name, with the bundle", strings.Replace(good.URL, "127.0.0.1", "localhost", 1), ca.pemFile, ""},
		{"default: AWS's roots, then the system's", good.URL, "", "certificate signed by unknown authority"},
		{"aws", good.URL, "aws", "certificate signed by unknown authority"},
		{"system", good.URL, "system", "certificate signed by unknown authority"},
		{"another host's certificate, at an IP address", otherName.URL, ca.pemFile, "127.0.0.1"},
		{"expired", expired.URL, ca.pemFile, "expired"},
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
	ca := newTestCA(t)
	srv := ca.server(t, time.Now().Add(time.Hour), "127.0.0.1")
	caPool := x509.NewCertPool()
	caPool.AddCert(ca.cert)
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
