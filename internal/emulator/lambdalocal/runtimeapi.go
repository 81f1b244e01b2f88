package lambdalocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"tollgate/internal/reqid"
)

// The Lambda Runtime API an instance talks to
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): next,
// response, error and init/error.

// holdUntilKilled answers nothing to an event/next of a closing pool: on
// Lambda a runtime waits there until its environment is shut down, and an
// empty answer would make it report an error ("failed to parse deadline")
// as it goes. The pool kills the process, which ends the request.
func holdUntilKilled(r *http.Request) { <-r.Context().Done() }

// next hands the instance its next invocation, waiting for one.
func (in *instance) next(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	in.initTimer.Stop()
	if in.init == 0 {
		in.init = time.Since(in.started)
	}
	busy := in.current != nil
	in.mu.Unlock()
	// The instance stays settling until it holds its next invocation (or
	// leaves): an invocation that arrives meanwhile waits for it, as on
	// Lambda, rather than start another instance.
	defer in.setSettling(false)
	if busy {
		runtimeError(w, http.StatusBadRequest, "InvalidStateTransition", "next called while an invocation is in progress")
		return
	}
	p := in.pool
	// Lambda starts the next invocation only once every extension has
	// asked for its next event; the environment is frozen from then on.
	in.mu.Lock()
	extIdle := in.extIdle
	in.mu.Unlock()
	select {
	case <-extIdle:
	case <-r.Context().Done():
		return
	case <-p.done:
		holdUntilKilled(r)
		return
	}
	in.freeze()
	var inv *invocation
	p.receiving.Add(1)
	select {
	case inv = <-p.queue:
	case <-r.Context().Done():
		p.receiving.Add(-1)
		return
	case <-p.done:
		p.receiving.Add(-1)
		holdUntilKilled(r)
		return
	}
	p.receiving.Add(-1)
	in.setSettling(false)
	in.thaw()
	timeout := p.fn.Timeout
	inv.handed = time.Now()
	inv.deadline = inv.handed.Add(timeout)
	in.mu.Lock()
	if in.dead || in.retired {
		// The process exited (or was retired) while this handler waited:
		// hand the invocation to another instance.
		in.mu.Unlock()
		go func() {
			if err := p.dispatch(context.Background(), inv); err != nil {
				inv.finish(result{err: err})
			}
		}()
		return
	}
	in.current = inv
	in.deliverInvoke(inv)
	in.timer = time.AfterFunc(timeout, func() {
		in.mu.Lock()
		still := in.current == inv
		in.mu.Unlock()
		if still {
			in.killFor(&FunctionError{Type: ErrorTypeTimeout, Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, timeout.Seconds())})
		}
	})
	in.mu.Unlock()
	p.invocations.Add(1)
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", p.ARN())
	h.Set("Lambda-Runtime-Trace-Id", reqid.TraceID(inv.id, time.Now())+";Sampled=0")
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.payload)
}

// take ends the current invocation if its id is id, and reports on it.
// The instance is then settling until it calls next.
func (in *instance) take(id string) (*invocation, Report) {
	now := time.Now()
	in.mu.Lock()
	inv := in.current
	if inv == nil || inv.id != id {
		in.mu.Unlock()
		return nil, Report{}
	}
	in.current = nil
	in.timer.Stop()
	r := Report{RequestID: inv.id, Instance: in.n, Duration: now.Sub(inv.handed)}
	if in.answered == 0 {
		r.Init, r.ColdStart = in.init, now.Sub(in.started)
	}
	in.answered++
	in.mu.Unlock()
	in.setSettling(true)
	return inv, r
}

// answer gives inv its result, then reports on it. A retired instance
// exits once it has answered.
func (in *instance) answer(inv *invocation, res result, r Report) {
	inv.finish(res)
	in.mu.Lock()
	retired := in.retired
	in.mu.Unlock()
	if retired {
		in.kill()
	}
	if f := in.pool.fn.Report; f != nil {
		errors.As(res.err, &r.Err)
		f(r)
	}
}

// setSettling records whether the instance is between an answer and its
// next call to next.
func (in *instance) setSettling(v bool) {
	p := in.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.settling == v || in.dead {
		return
	}
	in.settling = v
	if v {
		p.settling++
	} else {
		p.settling--
	}
}

func (in *instance) response(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResponseSize))
	inv, report := in.take(r.PathValue("id"))
	if inv == nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+r.PathValue("id")+" in progress")
		return
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		fe := &FunctionError{Type: ErrorTypeTooLarge, Message: "Response payload size exceeded maximum allowed payload size (6291556 bytes)."}
		if !errors.As(err, &tooLarge) {
			fe = &FunctionError{Type: ErrorTypeUnspecified, Message: "reading the response: " + err.Error()}
		}
		in.answer(inv, result{err: fe}, report)
		runtimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fe.Message)
		return
	}
	in.answer(inv, result{payload: body}, report)
	accepted(w)
}

func (in *instance) error(w http.ResponseWriter, r *http.Request) {
	fe := readFunctionError(r)
	inv, report := in.take(r.PathValue("id"))
	if inv == nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+r.PathValue("id")+" in progress")
		return
	}
	in.answer(inv, result{err: fe}, report)
	accepted(w)
}

func (in *instance) initError(w http.ResponseWriter, r *http.Request) {
	fe := readFunctionError(r)
	in.mu.Lock()
	if in.reason == nil {
		in.reason = &FunctionError{Type: ErrorTypeInit, Message: fe.Type + ": " + fe.Message}
	}
	in.mu.Unlock()
	accepted(w)
	// The runtime exits after reporting; if it does not, it is killed
	// when its init timer fires.
}

// readFunctionError reads the error document a runtime posts.
func readFunctionError(r *http.Request) *FunctionError {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	fe := &FunctionError{}
	if json.Unmarshal(body, fe) != nil || fe.Type == "" && fe.Message == "" {
		fe.Message = string(body)
	}
	if fe.Type == "" {
		fe.Type = r.Header.Get("Lambda-Runtime-Function-Error-Type")
	}
	if fe.Type == "" {
		fe.Type = ErrorTypeUnspecified
	}
	return fe
}

// accepted is the Runtime API's reply to a response or an error it took.
func accepted(w http.ResponseWriter) {
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

func runtimeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(FunctionError{Type: typ, Message: msg})
}
