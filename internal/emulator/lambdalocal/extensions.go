package lambdalocal

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"tollgate/internal/reqid"
)

// The Lambda Extensions API, for internal extensions (goroutines of the
// function's own process), following
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html:
// an extension registers during init, before the runtime's first call to
// next; each of its calls to event/next says it is done with the last
// event and waits for the next INVOKE. The instance takes no invocation,
// and is not frozen, until the runtime and every extension are waiting.
type extension struct {
	id     string
	events chan *invocation // at most one pending
	parked bool             // waiting in event/next for the next invocation
}

func (e *extension) deliver(inv *invocation) {
	select {
	case e.events <- inv:
	default: // the extension has not picked up the last one; Lambda would not send another
	}
}

func (in *instance) registerExtension(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Events []string `json:"events"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestFormat", "the body is not a registration")
		return
	}
	for _, ev := range body.Events {
		if ev != "INVOKE" {
			// Internal extensions cannot register for SHUTDOWN.
			runtimeError(w, http.StatusBadRequest, "InvalidEventType", "an internal extension may register for INVOKE only, not "+ev)
			return
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.init != 0 {
		runtimeError(w, http.StatusForbidden, "Extension.RegistrationClosed", "registration closes when the runtime first calls next")
		return
	}
	e := &extension{id: reqid.New(), events: make(chan *invocation, 1)}
	in.exts = append(in.exts, e)
	in.extIdle = make(chan struct{}) // until it first calls event/next
	w.Header().Set("Lambda-Extension-Identifier", e.id)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"functionName":` + strconv.Quote(in.pool.fn.Name) + `,"functionVersion":"$LATEST","handler":"bootstrap"}`))
}

func (in *instance) extensionNext(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("Lambda-Extension-Identifier")
	in.mu.Lock()
	var e *extension
	for _, x := range in.exts {
		if x.id == id {
			e = x
		}
	}
	if e == nil {
		in.mu.Unlock()
		runtimeError(w, http.StatusForbidden, "Extension.UnknownExtensionIdentifier", "unknown extension identifier")
		return
	}
	e.parked = true
	in.extensionsParked()
	in.mu.Unlock()
	select {
	case inv := <-e.events:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"eventType":          "INVOKE",
			"deadlineMs":         inv.deadline.UnixMilli(),
			"requestId":          inv.id,
			"invokedFunctionArn": in.pool.ARN(),
			"tracing":            map[string]string{"type": "X-Amzn-Trace-Id", "value": reqid.TraceID(inv.id, time.Now())},
		})
	case <-r.Context().Done():
	case <-in.pool.done:
		holdUntilKilled(r) // an empty answer would stop the extension with an error
	}
}

// extensionsParked closes extIdle once every extension waits for its next
// event. in.mu is held.
func (in *instance) extensionsParked() {
	for _, e := range in.exts {
		if !e.parked {
			return
		}
	}
	select {
	case <-in.extIdle:
	default:
		close(in.extIdle)
	}
}

// deliverInvoke hands inv to every extension; the instance is busy until
// they all ask for the next event again. in.mu is held.
func (in *instance) deliverInvoke(inv *invocation) {
	if len(in.exts) == 0 {
		return
	}
	in.extIdle = make(chan struct{})
	for _, e := range in.exts {
		e.parked = false
		e.deliver(inv)
	}
}

// freeze stops the idle instance's process if the function asks for it.
func (in *instance) freeze() {
	if !in.pool.fn.Freeze {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.dead && !in.frozen && in.current == nil {
		in.frozen = signalGroup(in.cmd, sigStop)
	}
}

// thaw continues a frozen instance.
func (in *instance) thaw() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.frozen {
		signalGroup(in.cmd, sigCont)
		in.frozen = false
	}
}
