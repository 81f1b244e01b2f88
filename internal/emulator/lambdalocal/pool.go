package lambdalocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"tollgate/internal/emulator/localaws"
	"tollgate/internal/reqid"
)

// DefaultMaxInstances is a function's bound on concurrent instances when
// it sets none.
const DefaultMaxInstances = 32

// Function is a Lambda function to run locally.
type Function struct {
	// Name is the function's name (AWS_LAMBDA_FUNCTION_NAME).
	Name string
	// Binary is the path of its bootstrap executable, built for this host.
	Binary string
	// Env is the function's configured environment. It cannot override
	// what Lambda sets.
	Env map[string]string
	// Timeout bounds one invocation; 0 means 3 seconds, Lambda's default.
	Timeout time.Duration
	// MemoryMB is reported in AWS_LAMBDA_FUNCTION_MEMORY_SIZE; 0 means 128.
	// It is not enforced.
	MemoryMB int
	// MaxInstances bounds concurrent instances, like reserved concurrency;
	// 0 means DefaultMaxInstances.
	MaxInstances int
	// InitTimeout bounds an instance's start, until it first asks for an
	// invocation; 0 means 10 seconds, Lambda's init limit.
	InitTimeout time.Duration
	// Region and AccountID make the function's ARN and AWS_REGION; empty
	// means us-east-1 and 123456789012.
	Region    string
	AccountID string
	// Logs receives every line instances write to stdout and stderr,
	// prefixed with the function's name and the instance's number; nil
	// discards them.
	Logs io.Writer
	// Freeze, when set, stops an instance's process (SIGSTOP) while it is
	// idle, as Lambda freezes an execution environment between
	// invocations, and continues it (SIGCONT) when it takes one: work a
	// function leaves running in the background stops in between.
	Freeze bool
	// Report, if set, is called with each invocation an instance answers
	// (with a response or an error), after its caller has the answer: what
	// Lambda's REPORT log line tells. It must not block.
	Report func(Report)
}

// Report tells of one answered invocation, as Lambda's REPORT line does.
type Report struct {
	RequestID string
	Instance  int           // the instance's number, from 1
	Duration  time.Duration // from handing the invocation to the instance to its answer
	// Init and ColdStart are set on an instance's first invocation only:
	// the time from starting its process to its first call to next
	// (Lambda's Init Duration), and to its first answer.
	Init, ColdStart time.Duration
	Err             *FunctionError // the error the function reported, or nil
}

// FunctionError is an invocation's failure: an error the function
// reported, or its instance's exit or timeout. API Gateway answers a proxy
// integration's FunctionError with 502, and an authorizer's with 500,
// except an authorizer's error whose message is exactly "Unauthorized".
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// ErrorMessage is Lambda's errorMessage (gateway.FunctionError).
func (e *FunctionError) ErrorMessage() string { return e.Message }

// Types of FunctionError this package produces itself.
const (
	ErrorTypeExit        = "Runtime.ExitError"
	ErrorTypeTimeout     = "Sandbox.Timedout"
	ErrorTypeInit        = "Runtime.InitError"
	ErrorTypeTooLarge    = "Function.ResponseSizeTooLarge"
	ErrorTypeUnspecified = "Runtime.Unknown"
)

// MaxResponseSize is Lambda's limit on a synchronous invocation's answer.
const MaxResponseSize = 6 << 20

// ErrClosed is returned by Invoke after Close.
var ErrClosed = errors.New("lambdalocal: pool closed")

// Stats count a pool's work.
type Stats struct {
	Invocations int64 // invocations handed to an instance
	ColdStarts  int64 // instances started
	Instances   int   // instances running now
}

// Pool runs one function's instances.
type Pool struct {
	fn    Function
	queue chan *invocation

	invocations atomic.Int64
	coldStarts  atomic.Int64

	mu        sync.Mutex
	instances map[*instance]struct{}
	nextID    int
	closed    bool
	done      chan struct{}
	freed     chan struct{} // closed and replaced when an instance exits
	settling  int           // instances between an answer and their next call to next
	logMu     sync.Mutex    // serializes lines from all instances
}

// NewPool checks f and returns its pool. No instance starts until the
// first invocation.
func NewPool(f Function) (*Pool, error) {
	if f.Name == "" || f.Binary == "" {
		return nil, errors.New("lambdalocal: a function needs a name and a binary")
	}
	if _, err := exec.LookPath(f.Binary); err != nil {
		return nil, fmt.Errorf("lambdalocal: function %s: %w", f.Name, err)
	}
	if f.Timeout == 0 {
		f.Timeout = 3 * time.Second
	}
	if f.MemoryMB == 0 {
		f.MemoryMB = 128
	}
	if f.MaxInstances == 0 {
		f.MaxInstances = DefaultMaxInstances
	}
	if f.InitTimeout == 0 {
		f.InitTimeout = 10 * time.Second
	}
	if f.Region == "" {
		f.Region = localaws.Region
	}
	if f.AccountID == "" {
		f.AccountID = localaws.AccountID
	}
	if f.Logs == nil {
		f.Logs = io.Discard
	}
	return &Pool{
		fn:        f,
		queue:     make(chan *invocation),
		instances: map[*instance]struct{}{},
		done:      make(chan struct{}),
		freed:     make(chan struct{}),
	}, nil
}

// ARN is the function's ARN, as Lambda-Runtime-Invoked-Function-Arn tells it.
func (p *Pool) ARN() string {
	return "arn:aws:lambda:" + p.fn.Region + ":" + p.fn.AccountID + ":function:" + p.fn.Name
}

// Stats reports the pool's counters.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	n := len(p.instances)
	p.mu.Unlock()
	return Stats{Invocations: p.invocations.Load(), ColdStarts: p.coldStarts.Load(), Instances: n}
}

type result struct {
	payload []byte
	err     error
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	handed   time.Time   // when an instance took it
	done     chan result // buffered: the first result wins
	once     sync.Once
}

func (inv *invocation) finish(r result) {
	inv.once.Do(func() { inv.done <- r })
}

// Invoke runs one invocation and returns the function's answer. A
// function's failure is a *FunctionError. If ctx ends first, Invoke returns
// ctx's error; the invocation itself runs on, as on Lambda.
func (p *Pool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	inv := &invocation{id: reqid.New(), payload: payload, done: make(chan result, 1)}
	if err := p.dispatch(ctx, inv); err != nil {
		return nil, err
	}
	select {
	case r := <-inv.done:
		return r.payload, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dispatch hands inv to an idle instance, starting one if none is idle and
// the pool has room, or waiting for one.
func (p *Pool) dispatch(ctx context.Context, inv *invocation) error {
	var started *instance // at most one instance is started per invocation
	for {
		select {
		case p.queue <- inv:
			return nil
		default:
		}
		var settled <-chan time.Time
		if started == nil {
			var err error
			started, settled, err = p.startIfRoom()
			if err != nil {
				return err
			}
		}
		var died <-chan struct{}
		if started != nil {
			died = started.exited
		}
		p.mu.Lock()
		freed := p.freed
		p.mu.Unlock()
		select {
		case p.queue <- inv:
			return nil
		case <-died:
			return started.initFailure()
		case <-freed:
			// An instance exited: there may be room for a new one. If it
			// was the one started for inv, inv fails with its init error.
			if started != nil {
				select {
				case <-started.exited:
					return started.initFailure()
				default:
				}
			}
		case <-settled:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return ErrClosed
		}
	}
}

// Close kills every instance and waits for them to exit.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	all := make([]*instance, 0, len(p.instances))
	for in := range p.instances {
		all = append(all, in)
	}
	p.mu.Unlock()
	for _, in := range all {
		in.kill()
	}
	for _, in := range all {
		<-in.exited
	}
	return nil
}

// Recycle retires every running instance, as a change to a function's
// configuration does on Lambda (an environment's configuration is fixed at
// its init): idle instances exit now, busy ones once they have answered,
// and later invocations start new instances. No invocation is lost: one
// that a retiring instance had not yet begun goes to another instance.
func (p *Pool) Recycle() {
	p.mu.Lock()
	all := make([]*instance, 0, len(p.instances))
	for in := range p.instances {
		all = append(all, in)
	}
	p.mu.Unlock()
	for _, in := range all {
		in.mu.Lock()
		in.retired = true
		idle := in.current == nil
		in.mu.Unlock()
		if idle {
			in.kill()
		}
	}
}

// startIfRoom starts an instance unless the pool is at its bound or an
// instance is settling: it has answered and is about to ask for the next
// invocation, as a warm instance does right after each one. Lambda sends
// the next invocation to that instance rather than start another; so does
// startIfRoom, for up to settleWait, after which settled fires and the
// caller asks again.
func (p *Pool) startIfRoom() (started *instance, settled <-chan time.Time, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, ErrClosed
	}
	if p.settling > 0 {
		return nil, time.After(settleWait), nil
	}
	if len(p.instances) >= p.fn.MaxInstances {
		return nil, nil, nil
	}
	p.nextID++
	in, err := p.start(p.nextID)
	if err != nil {
		return nil, nil, err
	}
	p.instances[in] = struct{}{}
	p.coldStarts.Add(1)
	return in, nil, nil
}

// settleWait bounds how long an invocation waits for a settling instance
// before it may start a new one.
const settleWait = 200 * time.Millisecond

// instance is one execution environment: a process and the Runtime API
// listener it talks to.
type instance struct {
	pool   *Pool
	n      int
	cmd    *exec.Cmd
	srv    *http.Server
	exited chan struct{} // closed once the process has exited and left the pool

	mu        sync.Mutex
	started   time.Time     // just before the process started
	init      time.Duration // from started to the first call to next
	answered  int           // invocations answered
	initTimer *time.Timer   // stopped at the first call to next
	dead      bool          // the process has exited
	settling  bool          // counted in pool.settling
	retired   bool          // Recycle: exit once idle, take no invocation
	frozen    bool          // stopped by Freeze
	exts      []*extension  // registered internal extensions
	extIdle   chan struct{} // closed when every extension waits in event/next
	current   *invocation
	timer     *time.Timer
	reason    *FunctionError // why the instance was killed, or its init error
	waitErr   error
}

func (p *Pool) start(n int) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdalocal: runtime API listener: %w", err)
	}
	in := &instance{pool: p, n: n, exited: make(chan struct{}), extIdle: make(chan struct{})}
	close(in.extIdle) // no extensions yet
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", in.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", in.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", in.error)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", in.initError)
	mux.HandleFunc("POST /2020-01-01/extension/register", in.registerExtension)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", in.extensionNext)
	in.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = in.srv.Serve(ln) }()

	f := p.fn
	cmd := exec.Command(f.Binary)
	cmd.Dir = filepath.Dir(f.Binary)
	cmd.Env = p.environment(ln.Addr().String(), n)
	prefix := fmt.Sprintf("[%s %d] ", f.Name, n)
	cmd.Stdout = &lineWriter{w: f.Logs, mu: &p.logMu, prefix: prefix}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = sysProcAttr()
	in.cmd = cmd
	// The process may ask for its first invocation, and the init timer
	// may fire, before Start returns: both wait for in.mu.
	in.mu.Lock()
	in.started = time.Now()
	in.initTimer = time.AfterFunc(f.InitTimeout, func() {
		in.killFor(&FunctionError{Type: ErrorTypeInit, Message: fmt.Sprintf("init did not finish within %v", f.InitTimeout)})
	})
	err = cmd.Start()
	in.mu.Unlock()
	if err != nil {
		in.initTimer.Stop()
		_ = in.srv.Close()
		return nil, fmt.Errorf("lambdalocal: start %s: %w", f.Name, err)
	}
	go func() {
		err := cmd.Wait()
		cmd.Stdout.(*lineWriter).Flush()
		_ = in.srv.Close()
		in.mu.Lock()
		in.initTimer.Stop()
		in.dead = true
		in.waitErr = err
		cur := in.current
		in.current = nil
		if in.timer != nil {
			in.timer.Stop()
		}
		reason := in.reason
		in.mu.Unlock()
		if cur != nil {
			if reason == nil {
				reason = &FunctionError{Type: ErrorTypeExit, Message: "RequestId: " + cur.id + " Error: Runtime exited: " + exitText(err)}
			}
			cur.finish(result{err: reason})
		}
		p.mu.Lock()
		delete(p.instances, in)
		if in.settling {
			p.settling--
		}
		// exited closes once the instance has left the pool, so Close's
		// wait means gone; and before freed: see dispatch.
		close(in.exited)
		close(p.freed)
		p.freed = make(chan struct{})
		p.mu.Unlock()
	}()
	return in, nil
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// initFailure is the error for the invocation that started an instance
// which died before taking it.
func (in *instance) initFailure() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.reason != nil {
		return in.reason
	}
	return &FunctionError{Type: ErrorTypeInit, Message: "Runtime exited during init: " + exitText(in.waitErr)}
}

// environment is what Lambda sets for a provided.al2023 function, then the
// function's own variables.
func (p *Pool) environment(api string, n int) []string {
	f := p.fn
	env := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          api,
		"AWS_LAMBDA_FUNCTION_NAME":        f.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(f.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + fmt.Sprintf("%032x", n),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      f.Region,
		"AWS_DEFAULT_REGION":              f.Region,
		"LAMBDA_TASK_ROOT":                filepath.Dir(f.Binary),
		"LAMBDA_RUNTIME_DIR":              filepath.Dir(f.Binary),
		"_HANDLER":                        filepath.Base(f.Binary),
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
	}
	out := make([]string, 0, len(env)+len(f.Env))
	for k, v := range f.Env {
		if _, reserved := env[k]; !reserved {
			out = append(out, k+"="+v)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// next hands the instance its next invocation, waiting for one.
func (in *instance) next(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	in.initTimer.Stop()
	if in.init == 0 {
		in.init = time.Since(in.started)
	}
	busy := in.current != nil
	in.mu.Unlock()
	in.setSettling(false)
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
		return
	}
	in.freeze()
	var inv *invocation
	select {
	case inv = <-p.queue:
	case <-r.Context().Done():
		return
	case <-p.done:
		return
	}
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxResponseSize))
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

// killFor kills the instance, recording why for the invocation it runs.
func (in *instance) killFor(reason *FunctionError) {
	in.mu.Lock()
	if in.reason == nil {
		in.reason = reason
	}
	in.mu.Unlock()
	in.kill()
}

func (in *instance) kill() {
	in.mu.Lock() // Start has returned
	defer in.mu.Unlock()
	killGroup(in.cmd)
}

// lineWriter prefixes every line written to w, one whole line per Write
// under mu, which all of a pool's instances share.
type lineWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    bytes.Buffer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		i := bytes.IndexByte(l.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := l.buf.Next(i + 1)
		_, _ = l.w.Write(append([]byte(l.prefix), line...))
	}
	return len(p), nil
}

// Flush writes a last line without its newline.
func (l *lineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		_, _ = l.w.Write(append(append([]byte(l.prefix), l.buf.Bytes()...), '\n'))
		l.buf.Reset()
	}
}

// PIDs are the process ids of the running instances, for operators and
// fault-injection tests.
func (p *Pool) PIDs() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	pids := make([]int, 0, len(p.instances))
	for in := range p.instances {
		pids = append(pids, in.cmd.Process.Pid)
	}
	return pids
}
