package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// The Lambda Runtime API, version 2018-06-01
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): a
// runtime asks invocation/next for an event (its id, deadline and trace id
// in headers), and posts the answer to invocation/{id}/response, or an
// error document ({"errorMessage", "errorType"}) to
// invocation/{id}/error. Lambda hands the answer to the caller as it is
// posted, and freezes the environment only at the runtime's next call to
// next: work between the two delays no caller and is not frozen mid-way.
const (
	runtimeInvocationPath = "/2018-06-01/runtime/invocation/"
	headerRequestID       = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMs      = "Lambda-Runtime-Deadline-Ms"
	headerTraceID         = "Lambda-Runtime-Trace-Id"
	headerErrorType       = "Lambda-Runtime-Function-Error-Type"
	// maxEvent bounds an event read from next: Lambda's own limit on a
	// synchronous invocation's payload is 6 MB.
	maxEvent = 8 << 20
)

// Serve answers invocations from the Lambda Runtime API at runtimeAPI
// (AWS_LAMBDA_RUNTIME_API, host:port) until the API fails, and returns
// that error; the process should then exit, and Lambda starts a new
// environment. Call it after Load, in place of lambda.Start(a), and not
// beside StartExtension: it does the extension's work itself.
//
// It is the runtime loop of aws-lambda-go's lambda.Start with the
// authorizer's own work placed where Lambda lets it cost no caller
// anything: after posting each answer and before asking for the next
// event it writes the invocation's decision line (Config.DecisionLog) and
// refreshes keys (and the JWKS) that are due, so no extension is needed,
// nor its round trip per invocation. An environment invoked at least every
// SteadyGap never waits for a refresh, and no decision line is left
// unwritten at a freeze or a shutdown.
//
// As lambda.Start does, it bounds each invocation's context by the
// event's deadline, sets _X_AMZN_TRACE_ID to the event's trace id,
// answers an error as {"errorMessage", "errorType"} (so that ErrUnauthorized
// is API Gateway's 401), and, if the authorizer panics, reports the panic
// as the invocation's error, with its stack, and returns. With
// AWS_LAMBDA_MAX_CONCURRENCY above 1 (Lambda Managed Instances) it runs
// that many loops. Unlike lambda.Start, it does not write each error
// document to standard error as well: the decision line says it. The
// context carries no lambdacontext.LambdaContext, which the authorizer
// does not read; the request id goes to the decision line.
func (a *Authorizer) Serve(runtimeAPI string) error {
	return a.serve(runtimeAPI, lambdacontext.MaxConcurrency())
}

// serve is Serve with loops loops.
func (a *Authorizer) serve(runtimeAPI string, loops int) error {
	if runtimeAPI == "" {
		return errors.New("authorizer: no Lambda Runtime API address (AWS_LAMBDA_RUNTIME_API)")
	}
	base, err := url.Parse("http://" + runtimeAPI + runtimeInvocationPath)
	// Lambda's is host:port; as in aws-lambda-go, a path after it is kept
	// (the local emulator's instances have one each).
	if err != nil || base.Host == "" || base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return fmt.Errorf("authorizer: Lambda Runtime API address %q is not host:port", runtimeAPI)
	}
	a.store.afterResponse.Store(true)
	a.DeferDecisionLog()
	if a.jwt != nil {
		a.jwt.jwks.afterResponse.Store(true)
	}
	// Calls to the link-local Runtime API never go through a proxy, as
	// in aws-lambda-go (lambda/runtime_api_client.go), and never time out.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	client := &http.Client{Transport: transport}
	loops = max(loops, 1)
	errs := make(chan error, loops)
	for range loops {
		l := &runtimeLoop{a: a, client: client, base: base, trace: loops == 1, buf: make([]byte, 0, 4096)}
		l.next = base.JoinPath("next")
		go func() { errs <- l.run() }()
	}
	return <-errs
}

// runtimeLoop is one loop of Serve, with its reused buffers.
type runtimeLoop struct {
	a      *Authorizer
	client *http.Client
	base   *url.URL // .../runtime/invocation/
	next   *url.URL
	trace  bool   // set _X_AMZN_TRACE_ID (a single loop only, as aws-lambda-go)
	buf    []byte // the event being answered
}

func (l *runtimeLoop) run() error {
	for {
		l.a.mayFreeze()
		id, deadline, err := l.event()
		if err != nil {
			return err
		}
		if err := l.answer(id, deadline); err != nil {
			return err
		}
		l.a.afterResponse(deadline)
	}
}

// event waits for the next invocation: its event is read into l.buf.
func (l *runtimeLoop) event() (id string, deadline time.Time, err error) {
	req := &http.Request{Method: http.MethodGet, URL: l.next, Header: http.Header{}, Host: l.next.Host}
	resp, err := l.client.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("authorizer: runtime API next: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return "", time.Time{}, fmt.Errorf("authorizer: runtime API next: %s", resp.Status)
	}
	id = resp.Header.Get(headerRequestID)
	if id == "" || strings.ContainsAny(id, "/?#") {
		return "", time.Time{}, fmt.Errorf("authorizer: runtime API next: request id %q", id)
	}
	// A deadline that cannot be read fails the invocation, as in
	// aws-lambda-go, not the loop.
	if ms, perr := strconv.ParseInt(resp.Header.Get(headerDeadlineMs), 10, 64); perr == nil {
		deadline = time.UnixMilli(ms)
	}
	if l.trace {
		if t := resp.Header.Get(headerTraceID); os.Getenv("_X_AMZN_TRACE_ID") != t {
			_ = os.Setenv("_X_AMZN_TRACE_ID", t)
		}
	}
	l.buf, err = readAll(l.buf[:0], resp.Body, maxEvent)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("authorizer: runtime API next: %w", err)
	}
	return id, deadline, nil
}

// answer decides the event in l.buf and posts the answer. A panic is
// posted as the invocation's error and then returned.
func (l *runtimeLoop) answer(id string, deadline time.Time) error {
	if deadline.IsZero() {
		err := errors.New("failed to parse deadline")
		return l.post(id, "/error", errorDocument(err), errorType(err))
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	out, panicked, err := l.a.invokeRecovering(ctx, l.buf, id)
	cancel()
	switch {
	case panicked != nil:
		if perr := l.post(id, "/error", panicked.doc, panicked.typ); perr != nil {
			return perr
		}
		return errors.New("authorizer: the authorizer panicked; the process should exit")
	case err == ErrUnauthorized: //nolint:errorlint // the value decide returns; a wrapped one is no 401
		return l.post(id, "/error", unauthorizedDocument, unauthorizedType)
	case err != nil:
		return l.post(id, "/error", errorDocument(err), errorType(err))
	}
	return l.post(id, "/response", out, "")
}

// post sends body to invocation/{id}{what}; the Runtime API accepts it
// with 202.
func (l *runtimeLoop) post(id, what string, body []byte, errType string) error {
	u := *l.base
	u.Path += id + what
	req := &http.Request{
		Method:        http.MethodPost,
		URL:           &u,
		Host:          u.Host,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}
	if errType != "" {
		req.Header[headerErrorType] = []string{errType}
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("authorizer: runtime API %s: %w", what[1:], err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("authorizer: runtime API %s: %s", what[1:], resp.Status)
	}
	return nil
}

// invokeRecovering is Invoke for request id, with a panic recovered and
// returned as the error document to post.
func (a *Authorizer) invokeRecovering(ctx context.Context, payload []byte, requestID string) (out []byte, panicked *panicReport, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, panicked, err = nil, panicDocument(v), nil
		}
	}()
	out, err = a.invoke(ctx, payload, requestID)
	return out, nil, err
}

// ErrUnauthorized's error document and type, made once: they answer
// every refused REST request.
var (
	unauthorizedDocument = errorDocument(ErrUnauthorized)
	unauthorizedType     = errorType(ErrUnauthorized)
)

// errorDocument is the Runtime API's error document for err, as
// aws-lambda-go writes it (lambda/errors.go): the message, and the name of
// the error's type.
func errorDocument(err error) []byte {
	b, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{err.Error(), errorType(err)})
	return b
}

// errorType is the name of v's type without its package or pointer, as
// aws-lambda-go names an error ("errorString" for errors.New).
func errorType(v any) string {
	name := fmt.Sprintf("%T", v)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.TrimLeft(name, "*")
}

// panicOutput is where a panic's report is written: standard error.
var panicOutput io.Writer = os.Stderr

// panicReport is a recovered panic's error document and type.
type panicReport struct {
	doc []byte
	typ string
}

// panicDocument is the error report for a panic with value v, with the
// stack of the panicking goroutine (functions, files and lines, no
// argument values), as aws-lambda-go reports one (lambda/panic.go), and
// writes it to standard error, where Lambda's log keeps it.
func panicDocument(v any) *panicReport {
	type frame struct {
		Path  string `json:"path"`
		Line  int    `json:"line"`
		Label string `json:"label"`
	}
	pcs := make([]uintptr, 32)
	pcs = pcs[:runtime.Callers(4, pcs)] // from the function that panicked: past Callers, panicDocument, the deferred function and gopanic
	var stack []frame
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		stack = append(stack, frame{Path: f.File, Line: f.Line, Label: f.Function})
		if !more {
			break
		}
	}
	b, _ := json.Marshal(struct {
		Message string  `json:"errorMessage"`
		Type    string  `json:"errorType"`
		Stack   []frame `json:"stackTrace"`
	}{fmt.Sprint(v), errorType(v), stack})
	fmt.Fprintf(panicOutput, "%s\n", b)
	return &panicReport{doc: b, typ: errorType(v)}
}

// afterResponse is the work each invocation leaves for after its answer:
// the decision line is written, and keys (and the JWKS) due a refresh are
// refreshed, within a little longer than a fetch may take (so that a fetch
// the source leaves unanswered ends as a failure, an outage, which backs
// off) and before the invocation's deadline, past which Lambda would time
// the invocation out.
func (a *Authorizer) afterResponse(deadline time.Time) {
	if a.decisions != nil {
		a.decisions.flush()
	}
	now := a.now()
	keysDue := a.store.due(now)
	jwksDue := a.jwt != nil && a.jwt.jwks.due(now)
	if !keysDue && !jwksDue {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.store.fetchTimeout+afterResponseGrace)
	defer cancel()
	if !deadline.IsZero() {
		var cancelAt context.CancelFunc
		ctx, cancelAt = context.WithDeadline(ctx, deadline.Add(-afterResponseGrace))
		defer cancelAt()
	}
	done := make(chan struct{})
	if jwksDue {
		go func() { a.jwt.jwks.refreshDue(ctx); close(done) }() // beside the keys, within the same bound
	} else {
		close(done)
	}
	if keysDue {
		a.store.refreshDue(ctx)
	}
	<-done
}

// afterResponseGrace is how much longer than a fetch's timeout the work
// after a response waits for it, and how long before the invocation's
// deadline it stops waiting.
const afterResponseGrace = 100 * time.Millisecond

// readAll appends r's bytes to buf, at most limit of them.
func readAll(buf []byte, r io.Reader, limit int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= limit {
				return buf, fmt.Errorf("body past %d bytes", limit)
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
