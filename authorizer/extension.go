package authorizer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// extensionName is the name the authorizer registers its internal Lambda
// extension under.
const extensionName = "tollgate-keys"

// The Lambda Extensions API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html):
// an extension registers during init and then calls event/next, which
// returns at each invocation; Lambda freezes the environment only once the
// runtime has posted its response and every extension has called
// event/next again. An internal extension (a goroutine of the function's
// own process) may register for INVOKE events only.
const (
	extensionRegisterPath = "/2020-01-01/extension/register"
	extensionNextPath     = "/2020-01-01/extension/event/next"
	extensionIDHeader     = "Lambda-Extension-Identifier"
	extensionNameHeader   = "Lambda-Extension-Name"
)

// StartExtension registers the authorizer as an internal Lambda extension
// with the Runtime API at runtimeAPI (AWS_LAMBDA_RUNTIME_API, host:port),
// so that keys are refreshed after each invocation's response and before
// Lambda freezes the environment: no caller waits for a refresh, and no
// refresh is cut off by a freeze. Call it during init, before the runtime
// asks for its first event (lambda.Start); registering later is refused by
// Lambda. On an error nothing is registered and keys are refreshed in the
// background as without it.
func (a *Authorizer) StartExtension(ctx context.Context, runtimeAPI string) error {
	if runtimeAPI == "" {
		return errors.New("authorizer: no Lambda Runtime API address (AWS_LAMBDA_RUNTIME_API)")
	}
	base := "http://" + runtimeAPI
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+extensionRegisterPath, bytes.NewReader([]byte(`{"events":["INVOKE"]}`)))
	if err != nil {
		return fmt.Errorf("authorizer: register extension: %w", err)
	}
	req.Header.Set(extensionNameHeader, extensionName)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("authorizer: register extension: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	id := resp.Header.Get(extensionIDHeader)
	if resp.StatusCode != http.StatusOK || id == "" {
		return fmt.Errorf("authorizer: register extension: %s", resp.Status)
	}
	a.invoked = make(chan struct{}, 1)
	a.store.afterResponse.Store(true)
	a.DeferDecisionLog()
	if a.jwt != nil {
		a.jwt.jwks.afterResponse.Store(true)
	}
	go a.runExtension(base, id)
	return nil
}

// runExtension is the extension's loop: wait for an invocation, wait for
// the authorizer to have answered it, write the decision lines, refresh
// the keys if they are due, and say so by asking for the next event. Each
// turn is kept cheap, since Lambda waits for it before the environment
// takes its next invocation: one request (URL parsed once, the event read
// with the package's scanner, not encoding/json), one reused timer, and a
// context for the refresh only when a refresh is due.
func (a *Authorizer) runExtension(base, id string) {
	log := a.logNone
	next, err := newExtensionClient(base, id)
	wait := time.NewTimer(time.Hour)
	wait.Stop()
	for err == nil {
		a.mayFreeze()
		var deadline time.Time
		if deadline, err = next.event(); err != nil {
			break
		}
		wait.Reset(time.Until(deadline))
		select {
		case <-a.invoked:
		case <-wait.C: // the invocation timed out; refresh anyway
		}
		wait.Stop() // no stale fire remains: timers are synchronous since Go 1.23 (go.mod says 1.26)
		a.afterResponse(deadline)
	}
	// Without the extension loop, refresh in the background again, and
	// write decision lines at once: keys stay fresh, if at some cost at
	// a freeze.
	a.store.afterResponse.Store(false)
	if a.jwt != nil {
		a.jwt.jwks.afterResponse.Store(false)
	}
	if a.decisions != nil {
		a.decisions.deferred.Store(false)
		a.decisions.flush()
	}
	log.LogAttrs(context.Background(), slog.LevelError, "extension stopped; keys are refreshed in the background",
		slog.String("error", err.Error()))
}

// extensionClient asks the Extensions API for the next event.
type extensionClient struct {
	url    *url.URL
	header http.Header
	buf    []byte
}

func newExtensionClient(base, id string) (*extensionClient, error) {
	u, err := url.Parse(base + extensionNextPath)
	if err != nil {
		return nil, err
	}
	return &extensionClient{url: u, header: http.Header{extensionIDHeader: {id}}, buf: make([]byte, 0, 512)}, nil
}

// event waits for the next INVOKE event and returns its deadline.
func (c *extensionClient) event() (time.Time, error) {
	req := &http.Request{Method: http.MethodGet, URL: c.url, Header: c.header, Host: c.url.Host}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("event/next: %s", resp.Status)
	}
	if c.buf, err = readAll(c.buf[:0], resp.Body, 1<<20); err != nil {
		return time.Time{}, fmt.Errorf("event/next: %w", err)
	}
	return invokeDeadline(c.buf)
}

// invokeDeadline reads an Extensions API event: its eventType must be
// INVOKE, and deadlineMs is returned.
func invokeDeadline(body []byte) (time.Time, error) {
	s := &scanner{data: body}
	s.skipSpace()
	empty, err := s.objectStart()
	var typ []byte
	var ms int64
	var seenMs bool
	for err == nil && !empty {
		var m member
		if m, err = s.key(); err != nil {
			break
		}
		s.skipSpace()
		switch {
		case m.is("eventType"):
			typ, _, err = s.stringOrNull()
		case m.is("deadlineMs"):
			var raw []byte
			if raw, err = s.value(1); err == nil {
				ms, err = strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
				seenMs = err == nil
			}
		default:
			_, err = s.value(1)
		}
		if err == nil {
			empty, err = s.listNext('}')
		}
	}
	switch {
	case err != nil:
		return time.Time{}, fmt.Errorf("event/next: %w", err)
	case string(typ) != "INVOKE":
		return time.Time{}, fmt.Errorf("event/next: unexpected event %q", typ)
	case !seenMs:
		return time.Time{}, errors.New("event/next: no deadlineMs")
	}
	return time.UnixMilli(ms), nil
}
