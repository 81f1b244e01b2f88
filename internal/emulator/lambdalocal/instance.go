package lambdalocal

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

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
	// The API is served under a path of 32 random hex characters that only
	// the instance's environment holds (AWS_LAMBDA_RUNTIME_API is
	// host:port/path; runtime clients join it with "/2018-06-01/…"), so
	// another local process cannot take its invocations or answer for
	// it: any other path is 404. Other users cannot read a process's
	// environment (/proc/<pid>/environ is its owner's).
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("lambdalocal: runtime API path: %w", err)
	}
	path := hex.EncodeToString(secret)
	in.srv = &http.Server{Handler: http.StripPrefix("/"+path, mux), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = in.srv.Serve(ln) }()

	f := p.fn
	cmd := exec.Command(f.Binary)
	cmd.Dir = filepath.Dir(f.Binary)
	cmd.Env = p.environment(ln.Addr().String()+"/"+path, n)
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
	if f.Start != nil {
		err = f.Start(cmd)
	} else {
		err = cmd.Start()
	}
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
