package lambdalocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
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
	// Start, when set, starts each instance's process in place of
	// cmd.Start: a benchmark's, to start it under a CPU limit. It must
	// start cmd or return an error.
	Start func(cmd *exec.Cmd) error
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

// maxResponseSize is Lambda's limit on a synchronous invocation's answer.
const maxResponseSize = 6 << 20

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
	receiving   atomic.Int64 // instances waiting on the queue now

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

// Update makes binary the function's code from now on, as a deploy of new
// code does on Lambda: later invocations start instances of binary, and
// the running instances are retired as Recycle retires them, so that no
// invocation in flight is dropped.
func (p *Pool) Update(binary string) error {
	if _, err := exec.LookPath(binary); err != nil {
		return fmt.Errorf("lambdalocal: %s: %w", p.fn.Name, err)
	}
	p.mu.Lock()
	p.fn.Binary = binary // read under p.mu when an instance starts
	p.mu.Unlock()
	p.Recycle()
	return nil
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
