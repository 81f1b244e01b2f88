package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
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
	if a.decisions != nil {
		a.decisions.deferred.Store(true)
	}
	if a.jwt != nil {
		a.jwt.jwks.afterResponse.Store(true)
	}
	go a.runExtension(base, id)
	return nil
}

// extensionGrace is how much longer than a fetch's timeout the extension
// waits for it after a response.
const extensionGrace = 100 * time.Millisecond

// runExtension is the extension's loop: wait for an invocation, wait for
// the authorizer to have answered it, refresh the keys if they are due,
// write the decision lines, and say so by asking for the next event.
func (a *Authorizer) runExtension(base, id string) {
	log := a.logNone
	for {
		a.mayFreeze()
		deadline, err := nextExtensionEvent(base, id)
		if err != nil {
			// Without the extension loop, refresh in the background
			// again: keys stay fresh, if at some cost at a freeze.
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
			return
		}
		wait := time.NewTimer(time.Until(deadline))
		select {
		case <-a.invoked:
		case <-wait.C: // the invocation timed out; refresh anyway
		}
		wait.Stop()
		// The invocation's decision line, now that its answer is out.
		if a.decisions != nil {
			a.decisions.flush()
		}
		// A little longer than a fetch may take, so that a fetch the
		// source leaves unanswered ends as a failure (an outage, which
		// backs off) before the extension lets Lambda freeze.
		ctx, cancel := context.WithTimeout(context.Background(), a.store.fetchTimeout+extensionGrace)
		var jwks sync.WaitGroup
		if a.jwt != nil {
			jwks.Go(func() { a.jwt.jwks.refreshDue(ctx) }) // beside the keys, within the same bound
		}
		a.store.refreshDue(ctx)
		jwks.Wait()
		cancel()
	}
}

// nextExtensionEvent waits for the next INVOKE event and returns its
// deadline.
func nextExtensionEvent(base, id string) (time.Time, error) {
	req, err := http.NewRequest(http.MethodGet, base+extensionNextPath, nil)
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set(extensionIDHeader, id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	var ev struct {
		EventType  string `json:"eventType"`
		DeadlineMs int64  `json:"deadlineMs"`
	}
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("event/next: %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ev); err != nil {
		return time.Time{}, fmt.Errorf("event/next: %w", err)
	}
	if ev.EventType != "INVOKE" {
		return time.Time{}, fmt.Errorf("event/next: unexpected event %q", ev.EventType)
	}
	return time.UnixMilli(ev.DeadlineMs), nil
}
