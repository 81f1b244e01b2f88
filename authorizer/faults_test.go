package authorizer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tollgate/internal/testkit/testkeys"

	"tollgate/authorizer"
	"tollgate/internal/testkit/logsink"
	"tollgate/internal/testkit/waitfor"
)

const (
	faultKey    = "tg_test_fault_key_before_0123456789abcdefghij"
	rotatedKey  = "tg_test_fault_key_after_0123456789abcdefghijk"
	faultARN    = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/hello"
	faultSecret = "tollgate/faults"
)

// Faults a Secrets Manager endpoint can have.
const (
	faultNone      = ""
	faultSlow      = "slow"      // holds every call until the client gives up
	fault500       = "500"       // InternalServiceError
	faultThrottle  = "throttle"  // ThrottlingException, 400
	faultMalformed = "malformed" // 200 with a body that is not JSON
	faultRefuse    = "refuse"    // nothing listens: connections are refused
)

// faultyEndpoint is a Secrets Manager endpoint with a switchable fault. It
// serves GetSecretValue for AWSCURRENT (the keyring) and answers
// ResourceNotFoundException for any other stage, as for a new secret.
type faultyEndpoint struct {
	addr string
	srv  *http.Server

	mu      sync.Mutex
	ln      net.Listener
	fault   string
	keyring string

	calls atomic.Int32 // GetSecretValue calls for AWSCURRENT
	done  chan struct{}
}

func newFaultyEndpoint(t *testing.T) *faultyEndpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &faultyEndpoint{addr: ln.Addr().String(), ln: ln, keyring: keyringOf(faultKey), done: make(chan struct{})}
	e.srv = &http.Server{Handler: http.HandlerFunc(e.serve)}
	go func() { _ = e.srv.Serve(ln) }()
	t.Cleanup(func() {
		close(e.done)
		_ = e.srv.Close()
	})
	return e
}

func keyringOf(key string) string {
	return string(testkeys.Keyring(1, testkeys.Key{ID: "client", Key: key}))
}

// set changes the fault; refusing connections closes the listener, and
// ending that listens again on the same address.
func (e *faultyEndpoint) set(t *testing.T, fault string) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	was := e.fault
	e.fault = fault
	switch {
	case fault == faultRefuse && was != faultRefuse:
		// Close the listener, and the client's idle keep-alive
		// connections with it, which would otherwise still be served.
		_ = e.ln.Close()
		e.srv.SetKeepAlivesEnabled(false)
	case fault != faultRefuse && was == faultRefuse:
		e.srv.SetKeepAlivesEnabled(true)
		ln, err := net.Listen("tcp", e.addr)
		if err != nil {
			t.Fatalf("listen again on %s: %v", e.addr, err)
		}
		e.ln = ln
		go func() { _ = e.srv.Serve(ln) }()
	}
}

func (e *faultyEndpoint) rotate(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keyring = keyringOf(key)
}

func (e *faultyEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionStage string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	fault, keyring := e.fault, e.keyring
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if in.VersionStage != authorizer.StageCurrent {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"no version with that stage"}`)
		return
	}
	e.calls.Add(1)
	switch fault {
	case faultSlow:
		select {
		case <-r.Context().Done():
		case <-e.done:
		}
		return
	case fault500:
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"__type":"InternalServiceError","message":"an internal error"}`)
		return
	case faultThrottle:
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
		return
	case faultMalformed:
		io.WriteString(w, `{"ARN":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:x","SecretString":"{\"keys\":[{`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN":  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + faultSecret + "-abcdef",
		"Name": faultSecret, "VersionId": "v1", "SecretString": keyring, "VersionStages": []string{authorizer.StageCurrent},
	})
}

// faultAuthorizer reads its keys through the client a Lambda function gets
// (SecretsManagerFromEnv, with its attempt timeout and retries) from e.
func faultAuthorizer(t *testing.T, e *faultyEndpoint, logs io.Writer, ttl, fetchTimeout time.Duration) *authorizer.Authorizer {
	t.Helper()
	env := lambdaEnv()
	env[authorizer.EnvAWSEndpoint] = "http://" + e.addr
	client, err := authorizer.SecretsManagerFromEnv(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	a, err := authorizer.New(authorizer.Config{
		Source:       authorizer.SecretsManager(client, faultSecret),
		TTL:          ttl,
		FetchTimeout: fetchTimeout,
		Logger:       slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// answer is what API Gateway makes of an Invoke: "allow", "401" or "500".
func answer(t *testing.T, a *authorizer.Authorizer, key string) string {
	t.Helper()
	out, err := a.Invoke(context.Background(), []byte(`{"type":"TOKEN","authorizationToken":"Bearer `+key+`","methodArn":"`+faultARN+`"}`))
	switch {
	case errors.Is(err, authorizer.ErrUnauthorized):
		return "401"
	case err != nil:
		return "500"
	case strings.Contains(string(out), `"Effect":"Allow"`):
		return "allow"
	}
	t.Fatalf("answer %s", out)
	return ""
}

// eventually waits for check, for at most 20 seconds: the authorizer
// backs off for a second after a failed fetch, so recovery takes a moment
// by design.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	waitfor.Eventually(t, 20*time.Second, 50*time.Millisecond, func() error {
		if !check() {
			return errors.New(what)
		}
		return nil
	})
}

// For each fault of the Secrets Manager endpoint, at cold start and during
// a refresh: what the caller sees, that no request is allowed without a
// valid key, that a fetch is bounded by the fetch timeout however the
// endpoint behaves, and that service recovers by itself when the fault
// ends.
func TestSecretsManagerFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out fetch timeouts and backoffs")
	}
	const fetchTimeout = 1500 * time.Millisecond // one attempt timeout, a pause, and part of a second attempt
	for _, fault := range []string{faultSlow, fault500, faultThrottle, faultMalformed, faultRefuse} {
		t.Run(fault+"/cold start", func(t *testing.T) {
			t.Parallel()
			e := newFaultyEndpoint(t)
			var logs logsink.Buffer
			e.set(t, fault)
			a := faultAuthorizer(t, e, &logs, time.Minute, fetchTimeout)

			err := a.Load(context.Background())
			if !errors.Is(err, authorizer.ErrNoKeys) {
				t.Fatalf("Load() = %v, want ErrNoKeys", err)
			}
			switch fault {
			case faultSlow:
				// Returning at all bounds the fetch: the endpoint holds a
				// call until the client gives up. The first attempt was cut
				// off by the attempt timeout and retried.
				if n := e.calls.Load(); n < 2 {
					t.Errorf("%d attempts at the fetch, want at least 2 (an attempt timeout, then a retry)", n)
				}
			case fault500, faultThrottle:
				if n := e.calls.Load(); n != authorizer.MaxAttempts {
					t.Errorf("%d attempts at the fetch, want %d (retries)", n, authorizer.MaxAttempts)
				}
			}
			// What the caller sees: a 500 for every request, valid key or
			// not, and never an allow.
			for _, key := range []string{faultKey, unknownEnvKey} {
				if got := answer(t, a, key); got != "500" {
					t.Errorf("during the fault, %s… is answered %s, want 500", key[:14], got)
				}
			}
			e.set(t, faultNone)
			eventually(t, "the valid key is allowed after the fault ends", func() bool { return answer(t, a, faultKey) == "allow" })
			if got := answer(t, a, unknownEnvKey); got != "401" {
				t.Errorf("after recovery an unknown key is answered %s, want 401", got)
			}
			authorizer.AssertNoKeysLogged(t, logs.String(), faultKey, rotatedKey, unknownEnvKey)
		})
		t.Run(fault+"/refresh", func(t *testing.T) {
			t.Parallel()
			e := newFaultyEndpoint(t)
			var logs logsink.Buffer
			const ttl = 300 * time.Millisecond
			a := faultAuthorizer(t, e, &logs, ttl, fetchTimeout)
			if err := a.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			e.set(t, fault)
			time.Sleep(ttl) // the keys are now due for a refresh
			// While refreshes fail the keys held keep serving: the valid
			// key is allowed, an unknown one refused, nothing else.
			eventually(t, "a refresh fails", func() bool {
				for _, c := range []struct{ key, want string }{{faultKey, "allow"}, {unknownEnvKey, "401"}, {rotatedKey, "401"}} {
					if got := answer(t, a, c.key); got != c.want {
						t.Fatalf("during the fault, %s… is answered %s, want %s", c.key[:14], got, c.want)
					}
				}
				return strings.Contains(logs.String(), "key refresh failed")
			})
			// The fault ends with the keys rotated: the next refresh
			// brings the new key in and the old one out.
			e.rotate(rotatedKey)
			e.set(t, faultNone)
			eventually(t, "the rotated key is allowed after the fault ends", func() bool {
				got := answer(t, a, rotatedKey)
				if got != "allow" && got != "401" {
					t.Fatalf("after the fault the rotated key is answered %s", got)
				}
				return got == "allow"
			})
			if got := answer(t, a, faultKey); got != "401" {
				t.Errorf("the key rotated out is answered %s, want 401", got)
			}
			authorizer.AssertNoKeysLogged(t, logs.String(), faultKey, rotatedKey, unknownEnvKey)
		})
	}
}

const unknownEnvKey = "tg_test_fault_nobody_has_this_0123456789abcd"
