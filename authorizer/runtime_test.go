package authorizer

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRuntime is the Lambda Runtime API a runtime talks to
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
// invocation/next hands out the events the test queues, with the headers
// Lambda sets, and invocation/{id}/response and /error record what is
// posted, answering 202. At each post and each call of next it records
// what the snapshot function returns then (a log, a fetch count), so that
// a test can tell what happened before the answer and what before the
// next event.
type fakeRuntime struct {
	srv      *httptest.Server
	events   chan fakeEvent
	posts    chan runtimePost
	nexts    chan string // the snapshot at each call of next
	snapshot func() string
	// closing ends every call of next still waiting, at cleanup: a loop
	// may ask again after the connections are closed, and Close waits
	// for every handler.
	closing chan struct{}

	mu                sync.Mutex
	waiting, maxWaits int // calls of next waiting now, and most at once
	postStatus        int // the status posts are answered with; 0 means 202
}

// fakeEvent is one invocation to hand out; status, when set, answers next
// with that status instead.
type fakeEvent struct {
	id, deadline, trace string
	payload             []byte
	status              int
}

type runtimePost struct {
	id, kind, errType, contentType string
	body                           []byte
	snapshot                       string
}

func newFakeRuntime(t *testing.T, snapshot func() string) *fakeRuntime {
	f := &fakeRuntime{events: make(chan fakeEvent, 64), posts: make(chan runtimePost, 64), nexts: make(chan string, 64), snapshot: snapshot,
		closing: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeInvocationPath+"next", func(w http.ResponseWriter, r *http.Request) {
		f.nexts <- f.snapshot()
		f.mu.Lock()
		f.waiting++
		f.maxWaits = max(f.maxWaits, f.waiting)
		f.mu.Unlock()
		defer func() { f.mu.Lock(); f.waiting--; f.mu.Unlock() }()
		select {
		case ev := <-f.events:
			if ev.status != 0 {
				w.WriteHeader(ev.status)
				return
			}
			w.Header().Set(headerRequestID, ev.id)
			w.Header().Set(headerDeadlineMs, ev.deadline)
			w.Header().Set(headerTraceID, ev.trace)
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:authorizer")
			_, _ = w.Write(ev.payload)
		case <-r.Context().Done():
		case <-f.closing:
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST "+runtimeInvocationPath+"{id}/{kind}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.posts <- runtimePost{id: r.PathValue("id"), kind: r.PathValue("kind"), errType: r.Header.Get(headerErrorType),
			contentType: r.Header.Get("Content-Type"), body: body, snapshot: f.snapshot()}
		f.mu.Lock()
		status := f.postStatus
		f.mu.Unlock()
		w.WriteHeader(cmp.Or(status, http.StatusAccepted))
		_, _ = w.Write([]byte(`{"status":"OK"}`))
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(f.closing)
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

// invoke queues an event with a deadline a minute away.
func (f *fakeRuntime) invoke(id string, payload []byte) {
	f.events <- fakeEvent{id: id, deadline: strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10), trace: "Root=1-" + id + ";Sampled=0", payload: payload}
}

// serve runs a.serve against f with loops loops; the returned channel
// gets its error once the test stops it (stop).
func (f *fakeRuntime) serve(a *Authorizer, loops int) <-chan error {
	done := make(chan error, 1)
	go func() { done <- a.serve(f.srv.Listener.Addr().String(), loops) }()
	return done
}

// stop answers the next call of next with a 500, which ends Serve.
func (f *fakeRuntime) stop() { f.events <- fakeEvent{status: http.StatusInternalServerError} }

func (f *fakeRuntime) post(t *testing.T) runtimePost {
	t.Helper()
	select {
	case p := <-f.posts:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("nothing posted to the Runtime API within 10 s")
		return runtimePost{}
	}
}

func (f *fakeRuntime) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-f.nexts:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no call of next within 10 s")
		return ""
	}
}

// reflectErrorType is how aws-lambda-go names an error's type
// (lambda/errors.go, getErrorType): by reflection, the pointer's element.
func reflectErrorType(v any) string {
	typ := reflect.TypeOf(v)
	if typ.Kind() == reflect.Pointer {
		return typ.Elem().Name()
	}
	return typ.Name()
}

// Serve answers each event as lambda.Start would: an answer to
// invocation/{id}/response, an error as {"errorMessage", "errorType"} to
// invocation/{id}/error (the message exactly "Unauthorized" for a refused
// REST request, which API Gateway turns into a 401), an event whose
// deadline cannot be read failed without ending the loop. Each decision
// line is written after its answer is posted and before the next event is
// asked for; the first call of next comes before any line.
func TestServeAnswersThroughTheRuntimeAPI(t *testing.T) {
	out := &syncBuffer{}
	a, _ := newTestAuthorizer(t, Config{DecisionLog: out, Logger: slog.New(slog.NewJSONHandler(out, nil))}, nil)
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := newFakeRuntime(t, out.String)
	t.Setenv("_X_AMZN_TRACE_ID", "")
	done := f.serve(a, 1)
	if log := f.next(t); strings.Contains(log, `"decision"`) {
		t.Fatalf("before the first event the log holds a decision: %q", log)
	}
	for _, c := range []struct {
		name, kind, message, errType string
		payload                      []byte
		deadline                     string
		allow                        bool
	}{
		{name: "allowed", kind: "response", payload: tokenEvent("Bearer "+mobileKey, testARN), allow: true},
		{name: "unknown key", kind: "error", payload: tokenEvent("Bearer "+unknownKey, testARN), message: "Unauthorized", errType: reflectErrorType(ErrUnauthorized)},
		{name: "not JSON", kind: "error", payload: []byte(`{"type":`), message: "malformed event"},
		{name: "bad deadline", kind: "error", payload: tokenEvent("Bearer "+mobileKey, testARN), deadline: "soon", message: "failed to parse deadline", errType: "errorString"},
		{name: "allowed after them", kind: "response", payload: tokenEvent("Bearer "+mobileKey, testARN), allow: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := strings.ReplaceAll(c.name, " ", "-")
			ev := fakeEvent{id: id, deadline: strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10), trace: "Root=1-" + id, payload: c.payload}
			if c.deadline != "" {
				ev.deadline = c.deadline
			}
			f.events <- ev
			p := f.post(t)
			if p.id != id || p.kind != c.kind || p.contentType != "application/json" {
				t.Fatalf("posted %s to %s (%s), want %s to %s", p.id, p.kind, p.contentType, id, c.kind)
			}
			if c.allow {
				if !decodeAnswer(t, p.body).allows(testARN) {
					t.Errorf("the answer does not allow %s: %s", testARN, p.body)
				}
			} else {
				var doc struct{ ErrorMessage, ErrorType string }
				if err := json.Unmarshal(p.body, &doc); err != nil {
					t.Fatalf("error document %s: %v", p.body, err)
				}
				if !strings.HasPrefix(doc.ErrorMessage, c.message) || doc.ErrorType == "" || c.errType != "" && doc.ErrorType != c.errType || p.errType != doc.ErrorType {
					t.Errorf("error document %s with type header %q, want message %q and type %q in both", p.body, p.errType, c.message, c.errType)
				}
			}
			logAtNext := f.next(t)
			if c.deadline != "" { // failed before the authorizer saw it: no line
				return
			}
			if strings.Contains(p.snapshot, `"requestId":"`+id+`"`) {
				t.Errorf("the decision line was written before the answer was posted")
			}
			if !strings.Contains(logAtNext, `"requestId":"`+id+`"`) {
				t.Errorf("the decision line was not written before the next event was asked for:\n%s", logAtNext)
			}
			if got := os.Getenv("_X_AMZN_TRACE_ID"); got != "Root=1-"+id {
				t.Errorf("_X_AMZN_TRACE_ID = %q, want the event's trace id", got)
			}
		})
	}
	assertNoKeysLogged(t, out.String())
	f.stop()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("Serve ended with %v, want the failed call of next", err)
	}
}

// Keys past the refresh margin are refreshed after the answer is posted
// and before the next event is asked for: the request that found them due
// did not wait for the fetch, and Lambda freezes nothing mid-way.
func TestServeRefreshesAfterTheAnswer(t *testing.T) {
	clock := newFakeClock()
	src := testStages(t)
	a, _ := newTestAuthorizerAt(t, clock.Now, Config{}, src)
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := newFakeRuntime(t, func() string { return strconv.Itoa(src.count()) })
	done := f.serve(a, 1)
	f.next(t)
	margin := RefreshMargin(DefaultTTL)
	for i, c := range []struct {
		at      time.Duration // since testNow, the first load
		fetches bool          // after the answer
	}{
		{30 * time.Second, false},
		{margin + time.Second, true}, // due: loaded again at margin+1s
		{margin + time.Minute, false},
		{margin + time.Second + DefaultTTL - time.Second, true}, // a second short of the TTL: no wait, then due
	} {
		clock.Set(testNow.Add(c.at))
		before := src.count()
		f.invoke(fmt.Sprint("r", i), tokenEvent("Bearer "+mobileKey, testARN))
		p := f.post(t)
		if p.kind != "response" || p.snapshot != strconv.Itoa(before) {
			t.Fatalf("at %s: posted to %s after %s fetches, want a response after %d", c.at, p.kind, p.snapshot, before)
		}
		want := before
		if c.fetches {
			want++
		}
		if got := f.next(t); got != strconv.Itoa(want) {
			t.Errorf("at %s: %s fetches when the next event was asked for, want %d", c.at, got, want)
		}
	}
	f.stop()
	<-done
}

// A panic in the authorizer is posted as the invocation's error, with its
// message, type and stack (no argument values), and then ends Serve, so
// that the process exits and Lambda starts a fresh environment, as
// lambda.Start does (aws-lambda-go lambda/invoke_loop.go).
func TestServeReportsAPanic(t *testing.T) {
	a, err := newAuthorizer(Config{Source: testStages(t), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))},
		hooks{now: newFakeClock().Now, match: func(*keyTable, []byte) (*entry, bool) { panic("boom") }})
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	panicOutput = &stderr
	t.Cleanup(func() { panicOutput = os.Stderr })
	f := newFakeRuntime(t, func() string { return "" })
	done := f.serve(a, 1)
	f.invoke("p1", tokenEvent("Bearer "+mobileKey, testARN))
	p := f.post(t)
	var doc struct {
		ErrorMessage, ErrorType string
		StackTrace              []struct{ Label string }
	}
	if err := json.Unmarshal(p.body, &doc); err != nil {
		t.Fatal(err)
	}
	if p.kind != "error" || doc.ErrorMessage != "boom" || doc.ErrorType != "string" || p.errType != "string" ||
		len(doc.StackTrace) == 0 || !strings.Contains(doc.StackTrace[0].Label, "TestServeReportsAPanic") {
		t.Errorf("posted to %s (type %q): %s", p.kind, p.errType, p.body)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("Serve ended with %v, want the panic", err)
	}
	if got := strings.TrimSpace(stderr.String()); got != string(p.body) {
		t.Errorf("standard error got %q, want the error document", got)
	}
}

// With several loops (AWS_LAMBDA_MAX_CONCURRENCY, Lambda Managed
// Instances), several calls of next wait at once and every event is
// answered.
func TestServeConcurrentLoops(t *testing.T) {
	a, _ := newTestAuthorizer(t, Config{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, nil)
	f := newFakeRuntime(t, func() string { return "" })
	done := f.serve(a, 3)
	for range 3 {
		f.next(t)
	}
	const n = 30
	for i := range n {
		f.invoke(fmt.Sprint("c", i), tokenEvent("Bearer "+mobileKey, testARN))
	}
	seen := map[string]bool{}
	for range n {
		p := f.post(t)
		if p.kind != "response" || seen[p.id] {
			t.Fatalf("posted %s to %s (seen before: %v)", p.id, p.kind, seen[p.id])
		}
		seen[p.id] = true
	}
	f.mu.Lock()
	most := f.maxWaits
	f.mu.Unlock()
	if most != 3 {
		t.Errorf("at most %d calls of next waited at once, want 3", most)
	}
	f.stop()
	if err := <-done; err == nil {
		t.Error("Serve did not end with an error")
	}
}

// Serve refuses what is not a Runtime API, and ends when the API answers
// outside its protocol: a request id it could not post to, a post that is
// not accepted.
func TestServeProtocolErrors(t *testing.T) {
	a, _ := newTestAuthorizer(t, Config{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, nil)
	for _, addr := range []string{"", "user@host:1", "host:1?q", "/path"} {
		if err := a.Serve(addr); err == nil {
			t.Errorf("Serve(%q) = nil, want an error", addr)
		}
	}
	for _, c := range []struct {
		name       string
		ev         fakeEvent
		postStatus int
		want       string
	}{
		{"no request id", fakeEvent{deadline: "1", payload: []byte(`{}`)}, 0, "request id"},
		{"request id with a slash", fakeEvent{id: "a/b", deadline: "1", payload: []byte(`{}`)}, 0, "request id"},
		{"post refused", fakeEvent{id: "x", deadline: strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10), payload: tokenEvent("Bearer "+mobileKey, testARN)}, http.StatusBadRequest, "400"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeRuntime(t, func() string { return "" })
			f.postStatus = c.postStatus
			done := f.serve(a, 1)
			f.events <- c.ev
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("Serve ended with %v, want %q", err, c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not end")
			}
		})
	}
}
