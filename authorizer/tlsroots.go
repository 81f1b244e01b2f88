package authorizer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed" // the roots
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Which roots the Secrets Manager client trusts.
//
// Go verifies a server's certificate against the system's root store,
// which it reads and parses whole at the first handshake: on Lambda, the
// ~140 certificates of Amazon Linux's bundle, most of a 128 MB function's
// cold start CPU for the one connection the authorizer makes. AWS service
// endpoints present certificates of Amazon Trust Services, which chain to
// Amazon Root CA 1 to 4 or, cross-signed, to Starfield Services Root
// Certificate Authority - G2
// (https://www.amazontrust.com/repository/, and
// https://aws.amazon.com/blogs/security/how-to-prepare-for-aws-move-to-its-own-certificate-authority/).
// So the client verifies against those five first (tlsroots/, embedded),
// and reads the system's store only when that fails: an endpoint override
// (AWS_ENDPOINT_URL_SECRETS_MANAGER) behind a proxy or a private CA is
// accepted as before. Hostname, expiry and chain are verified either way:
// a certificate is accepted only with a chain to one of these roots or to
// the system's (to the named bundle's alone, when EnvTLSRoots names one).
// A system store that lacks Amazon's roots no longer refuses an AWS
// endpoint; Mozilla's root store, which Debian's and Amazon Linux's
// ca-certificates ship, holds them too.

// EnvTLSRoots chooses the roots: unset or "aws", the embedded Amazon Trust
// Services roots, then the system's; "system", the system's only (Go's
// default); or the path of a PEM bundle, its roots only (an endpoint with
// a private CA, or a test's).
const EnvTLSRoots = "TOLLGATE_TLS_ROOTS"

//go:embed tlsroots/amazon-trust-services.pem
var amazonTrustPEM []byte

// amazonRoots is the embedded roots' pool, parsed at first use.
var amazonRoots = sync.OnceValue(func() *x509.CertPool {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(amazonTrustPEM) {
		panic("authorizer: the embedded Amazon Trust Services roots do not parse")
	}
	return pool
})

// rootVerifier verifies a server's chain against primary, then, if that
// fails and fallback is set, against the pool fallback returns (loaded at
// most once, and only when needed).
type rootVerifier struct {
	primary  *x509.CertPool
	fallback func() (*x509.CertPool, error)
}

// apply makes t verify servers with v in place of Go's own verification
// against the system's store. Go still runs the handshake's other checks;
// VerifyConnection is called after them, on every connection, resumed
// ones included (crypto/tls, Config.VerifyConnection). The connections t
// makes itself are made by DialTLSContext, which knows the host name even
// for an IP address (for which no SNI is sent, so that the connection
// state's ServerName is empty); through a proxy, the connection state's
// ServerName is checked, and an empty one is refused.
func (v *rootVerifier) apply(t *http.Transport, handshakeTimeout time.Duration) {
	base := t.TLSClientConfig.Clone()
	if base == nil {
		base = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	base.InsecureSkipVerify = true //nolint:gosec // verified in VerifyConnection, with the host name, against v's roots
	proxied := base.Clone()
	proxied.VerifyConnection = func(cs tls.ConnectionState) error { return v.verify(cs.ServerName, cs) }
	t.TLSClientConfig = proxied
	dialer := &net.Dialer{Timeout: handshakeTimeout, KeepAlive: 30 * time.Second}
	t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		raw, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := base.Clone()
		cfg.ServerName = host
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return v.verify(host, cs) }
		conn := tls.Client(raw, cfg)
		hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		defer cancel()
		if err := conn.HandshakeContext(hctx); err != nil {
			_ = raw.Close()
			return nil, err
		}
		return conn, nil
	}
}

func (v *rootVerifier) verify(host string, cs tls.ConnectionState) error {
	if host == "" {
		return errors.New("tls: no server name to verify the certificate for")
	}
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: the server presented no certificate")
	}
	opts := x509.VerifyOptions{DNSName: host, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	opts.Roots = v.primary
	_, err := cs.PeerCertificates[0].Verify(opts)
	if err == nil || v.fallback == nil {
		return err
	}
	pool, ferr := v.fallback()
	if ferr != nil {
		return fmt.Errorf("%w (and the system's roots: %w)", err, ferr)
	}
	opts.Roots = pool
	_, err = cs.PeerCertificates[0].Verify(opts)
	return err
}

// rootsFromEnv is the verifier EnvTLSRoots chooses; nil for "system".
func rootsFromEnv(getenv func(string) string) (*rootVerifier, error) {
	switch v := strings.TrimSpace(getenv(EnvTLSRoots)); v {
	case "", "aws":
		return &rootVerifier{primary: amazonRoots(), fallback: sync.OnceValues(x509.SystemCertPool)}, nil
	case "system":
		return nil, nil
	default:
		pem, err := os.ReadFile(v)
		if err != nil {
			return nil, fmt.Errorf("authorizer: %s: %w", EnvTLSRoots, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("authorizer: %s=%s: no PEM certificate in it", EnvTLSRoots, v)
		}
		return &rootVerifier{primary: pool}, nil
	}
}
