package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// freezableSource is a secret whose next fetch, once frozen, hangs as a
// fetch does in a Lambda environment frozen mid-way: nothing happens until
// the thaw, at which the fetch's deadline has passed and it ends with
// context.DeadlineExceeded, as the SDK returns it.
type freezableSource struct {
	mu      sync.Mutex
	value   []byte
	freeze  bool
	entered chan struct{} // a frozen fetch has started
	thaw    chan struct{} // closed at the thaw
}

func newFreezableSource(value string) *freezableSource {
	return &freezableSource{value: []byte(value), entered: make(chan struct{}, 1), thaw: make(chan struct{})}
}

func (f *freezableSource) SecretValue(_ context.Context, _ string) ([]byte, error) {
	f.mu.Lock()
	frozen, v := f.freeze, f.value
	f.freeze = false
	f.mu.Unlock()
	if frozen {
		f.entered <- struct{}{}
		<-f.thaw
		return nil, fmt.Errorf("operation error Secrets Manager: GetSecretValue: %w", context.DeadlineExceeded)
	}
	return v, nil
}

func (f *freezableSource) set(value string, freeze bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.value, f.freeze = []byte(value), freeze
}

// fakeRuntimeAPI is the part of the Lambda Runtime API an internal
// extension talks to (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html):
// register, then event/next, answered with an INVOKE event each time the
// test sends one. nexts receives each call of event/next: from then on
// Lambda may freeze the environment.
type fakeRuntimeAPI struct {
	srv    *httptest.Server
	events chan time.Time // deadlines of the INVOKE events to hand out
	nexts  chan struct{}
}

func newFakeRuntimeAPI(t *testing.T) *fakeRuntimeAPI {
	f := &fakeRuntimeAPI{events: make(chan time.Time, 1), nexts: make(chan struct{}, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+extensionRegisterPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set(extensionIDHeader, "tollgate-keys-test")
		_, _ = w.Write([]byte(`{}`))
	})
	mux.HandleFunc("GET "+extensionNextPath, func(w http.ResponseWriter, r *http.Request) {
		f.nexts <- struct{}{}
		select {
		case d := <-f.events:
			_ = json.NewEncoder(w).Encode(map[string]any{"eventType": "INVOKE", "deadlineMs": d.UnixMilli()})
		case <-r.Context().Done():
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

// invoke hands the extension an INVOKE event, as Lambda does when an
// invocation starts.
func (f *fakeRuntimeAPI) invoke() { f.events <- time.Now().Add(time.Minute) }

// Issue 26, defect 2: a removed key outlived its bound after a refresh was
// cut off. The key is removed at t0+1m (TTL 5 min: bound t0+6m); a refresh
// started at t0+3m is frozen mid-fetch with the environment; at the thaw,
// t0+20m, a request waits on that fetch, whose deadline fired during the
// freeze. Secrets Manager is healthy: the request must be decided with
// keys read after the removal, in both refresh modes.
func TestRemovedKeyBoundHoldsAcrossAFreeze(t *testing.T) {
	both := `{"keys":[{"id":"mobile-app","sha256":"` + Digest(mobileKey) + `"},{"id":"orders-bot","sha256":"` + Digest(ordersKey) + `"}]}`
	removed := `{"keys":[{"id":"mobile-app","sha256":"` + Digest(mobileKey) + `"}]}`
	for _, extension := range []bool{false, true} {
		t.Run(fmt.Sprintf("extension=%v", extension), func(t *testing.T) {
			clock := newFakeClock()
			src := newFreezableSource(both)
			a, logs := newTestAuthorizerAt(t, clock.Now, Config{FetchTimeout: 100 * time.Millisecond}, src)
			var runtime *fakeRuntimeAPI
			if extension {
				runtime = newFakeRuntimeAPI(t)
				if err := a.StartExtension(context.Background(), runtime.srv.Listener.Addr().String()); err != nil {
					t.Fatal(err)
				}
				<-runtime.nexts // the extension waits for the first invocation
			}
			if err := a.Load(context.Background()); err != nil {
				t.Fatal(err)
			}

			clock.Set(testNow.Add(time.Minute))
			src.set(removed, false)

			// t0+3m: past the refresh margin, the refresh starts (in the
			// background, or after the response by the extension) and is
			// frozen with the environment.
			clock.Set(testNow.Add(3 * time.Minute))
			src.set(removed, true)
			if runtime != nil {
				runtime.invoke()
			}
			if _, err := a.Invoke(context.Background(), tokenEvent("Bearer "+mobileKey, testARN)); err != nil {
				t.Fatal(err)
			}
			<-src.entered
			if runtime != nil {
				<-runtime.nexts // the extension gave up waiting: Lambda may freeze now
			}

			// The thaw, t0+20m: a request finds the keys past their TTL and
			// waits on the fetch still in flight, which ends at the thaw.
			clock.Set(testNow.Add(20 * time.Minute))
			waiting := make(chan struct{}, 4)
			a.store.waiting = func() { waiting <- struct{}{} }
			if runtime != nil {
				runtime.invoke()
			}
			result := make(chan error, 1)
			go func() {
				_, err := a.Invoke(context.Background(), tokenEvent("Bearer "+ordersKey, testARN))
				result <- err
			}()
			<-waiting
			close(src.thaw)
			if err := <-result; !errors.Is(err, ErrUnauthorized) {
				t.Errorf("the removed key at t0+20m, 14 min past its bound: Invoke() = %v, want Unauthorized\n%s", err, logs)
			}
		})
	}
}
