//go:build unix

package lambdalocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tollgate/internal/testkit/logsink"
	"tollgate/internal/testkit/waitfor"
)

var testfn string // the test function's binary, built by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdalocal")
	if err != nil {
		panic(err)
	}
	testfn = filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-o", testfn, "./testdata/testfn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the test function: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func newPool(t *testing.T, edit func(f *Function)) (*Pool, *logsink.Buffer) {
	t.Helper()
	logs := &logsink.Buffer{}
	f := Function{Name: "testfn", Binary: testfn, Timeout: 10 * time.Second, Logs: logs}
	if edit != nil {
		edit(&f)
	}
	p, err := NewPool(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, logs
}

func invoke(t *testing.T, p *Pool, event string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := p.Invoke(ctx, []byte(event))
	return string(out), err
}

func mustInvoke(t *testing.T, p *Pool, event, want string) {
	t.Helper()
	got, err := invoke(t, p, event)
	if err != nil || got != want {
		t.Fatalf("Invoke(%s) = %s, %v; want %s", event, got, err, want)
	}
}

func wantFunctionError(t *testing.T, err error, typ, inMessage string) {
	t.Helper()
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != typ || !strings.Contains(fe.Message, inMessage) {
		t.Fatalf("error = %v, want a FunctionError of type %s naming %q", err, typ, inMessage)
	}
}

func wantStats(t *testing.T, p *Pool, invocations, coldStarts int64) {
	t.Helper()
	if s := p.Stats(); s.Invocations != invocations || s.ColdStarts != coldStarts {
		t.Fatalf("Stats() = %+v, want %d invocations and %d cold starts", s, invocations, coldStarts)
	}
}

func TestWarmInstanceIsReused(t *testing.T) {
	p, _ := newPool(t, nil)
	for i := range 3 {
		mustInvoke(t, p, fmt.Sprintf(`{"echo":{"n":%d}}`, i), fmt.Sprintf(`{"n":%d}`, i))
		// However slow this machine is at the moment, the instance asks
		// for its next invocation before the next one comes.
		waitfor.Eventually(t, 10*time.Second, time.Millisecond, func() error {
			if p.receiving.Load() != 1 {
				return errors.New("the instance is not waiting for its next invocation")
			}
			return nil
		})
	}
	wantStats(t, p, 3, 1)
}

// The variables Lambda sets, per
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime.
func TestEnvironment(t *testing.T) {
	p, _ := newPool(t, func(f *Function) {
		f.Name, f.MemoryMB, f.Region = "orders", 256, "eu-west-3"
		f.Env = map[string]string{"TOLLGATE_X": "y", "AWS_LAMBDA_FUNCTION_NAME": "spoofed"}
	})
	for name, want := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "orders",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/orders",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      "eu-west-3",
		"AWS_DEFAULT_REGION":              "eu-west-3",
		"LAMBDA_TASK_ROOT":                filepath.Dir(testfn),
		"_HANDLER":                        "bootstrap",
		"TZ":                              ":UTC",
		"TOLLGATE_X":                      "y",
		"HOME":                            "",
	} {
		mustInvoke(t, p, `{"env":"`+name+`"}`, `"`+want+`"`)
	}
	got, err := invoke(t, p, `{"env":"AWS_LAMBDA_RUNTIME_API"}`)
	if err != nil || !strings.HasPrefix(got, `"127.0.0.1:`) {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %s, %v; want a loopback address", got, err)
	}
	// The deadline the runtime sees is the function's timeout from now.
	got, err = invoke(t, p, `{"deadline":true}`)
	var ms int64
	if err != nil || json.Unmarshal([]byte(got), &ms) != nil || ms <= 0 || ms > 10_000 {
		t.Errorf("deadline = %s ms, %v; want within the 10 s timeout", got, err)
	}
}

func TestFunctionErrorKeepsTheInstance(t *testing.T) {
	p, _ := newPool(t, nil)
	_, err := invoke(t, p, `{"error":"Unauthorized"}`)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Message != "Unauthorized" || fe.Type != "errorString" {
		t.Fatalf("error = %#v, want aws-lambda-go's errorString Unauthorized", err)
	}
	mustInvoke(t, p, `{"echo":1}`, `1`)
	wantStats(t, p, 2, 1)
}

func TestCrashReplacesTheInstance(t *testing.T) {
	p, _ := newPool(t, nil)
	mustInvoke(t, p, `{"echo":1}`, `1`)
	_, err := invoke(t, p, `{"crash":true}`)
	wantFunctionError(t, err, ErrorTypeExit, "exit status 3")
	mustInvoke(t, p, `{"echo":2}`, `2`)
	wantStats(t, p, 3, 2)
}

func TestTimeoutKillsTheInstance(t *testing.T) {
	p, _ := newPool(t, func(f *Function) { f.Timeout = time.Second })
	_, err := invoke(t, p, `{"sleep":"1m"}`)
	wantFunctionError(t, err, ErrorTypeTimeout, "Task timed out after 1.00 seconds")
	mustInvoke(t, p, `{"echo":2}`, `2`)
	wantStats(t, p, 2, 2)
}

func TestInitFailure(t *testing.T) {
	t.Run("exit", func(t *testing.T) {
		p, logs := newPool(t, func(f *Function) { f.Env = map[string]string{"TESTFN_INIT": "exit"} })
		_, err := invoke(t, p, `{"echo":1}`)
		wantFunctionError(t, err, ErrorTypeInit, "exit status 1")
		if !strings.Contains(logs.String(), "[testfn 1] init failed on purpose\n") {
			t.Errorf("logs = %q, want the instance's stderr line", logs.String())
		}
		// Every invocation gets a fresh attempt.
		_, err = invoke(t, p, `{"echo":1}`)
		wantFunctionError(t, err, ErrorTypeInit, "exit status 1")
		wantStats(t, p, 0, 2)
	})
	t.Run("reported", func(t *testing.T) {
		p, logs := newPool(t, func(f *Function) { f.Env = map[string]string{"TESTFN_INIT": "report"} })
		_, err := invoke(t, p, `{"echo":1}`)
		wantFunctionError(t, err, ErrorTypeInit, "Runtime.ConfigError: bad config")
		if strings.Contains(logs.String(), "reporting the init error") {
			t.Errorf("the Runtime API refused the init error: %s", logs.String())
		}
	})
	t.Run("hang", func(t *testing.T) {
		p, _ := newPool(t, func(f *Function) {
			f.Env = map[string]string{"TESTFN_INIT": "hang"}
			f.InitTimeout = 500 * time.Millisecond
		})
		_, err := invoke(t, p, `{"echo":1}`)
		wantFunctionError(t, err, ErrorTypeInit, "init did not finish within 500ms")
	})
}

func TestResponseTooLarge(t *testing.T) {
	p, _ := newPool(t, nil)
	_, err := invoke(t, p, fmt.Sprintf(`{"big":%d}`, maxResponseSize))
	wantFunctionError(t, err, ErrorTypeTooLarge, "exceeded")
	mustInvoke(t, p, `{"echo":3}`, `3`)
}

func TestScaleOut(t *testing.T) {
	for _, tt := range []struct {
		max, concurrent int
		wantColdStarts  int64
	}{
		{max: 32, concurrent: 4, wantColdStarts: 4},
		{max: 2, concurrent: 6, wantColdStarts: 2},
	} {
		t.Run(fmt.Sprintf("max %d", tt.max), func(t *testing.T) {
			p, _ := newPool(t, func(f *Function) { f.MaxInstances = tt.max })
			// Every invocation sleeps long enough that each finds every
			// started instance busy.
			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make(chan error, tt.concurrent)
			for range tt.concurrent {
				wg.Go(func() {
					<-start
					out, err := invoke(t, p, `{"sleep":"1500ms"}`)
					if err == nil && out != `"slept"` {
						err = fmt.Errorf("answer %s", out)
					}
					errs <- err
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			s := p.Stats()
			if s.Invocations != int64(tt.concurrent) || s.ColdStarts > tt.wantColdStarts || s.Instances > tt.max {
				t.Fatalf("Stats() = %+v, want %d invocations on at most %d instances", s, tt.concurrent, tt.wantColdStarts)
			}
			if tt.max < tt.concurrent && s.ColdStarts != int64(tt.max) {
				t.Fatalf("ColdStarts = %d, want the bound %d reached", s.ColdStarts, tt.max)
			}
		})
	}
}

func TestLogs(t *testing.T) {
	p, logs := newPool(t, nil)
	mustInvoke(t, p, `{"log":"hello from the function"}`, `"logged"`)
	_ = p.Close()
	if !strings.Contains(logs.String(), "[testfn 1] hello from the function\n") {
		t.Errorf("logs = %q", logs.String())
	}
}

func TestCloseKillsEveryInstance(t *testing.T) {
	p, _ := newPool(t, nil)
	done := make(chan error, 1)
	go func() { _, err := invoke(t, p, `{"sleep":"1m"}`); done <- err }()
	for p.Stats().Invocations == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	p.mu.Lock()
	var pids []int
	for in := range p.instances {
		pids = append(pids, in.cmd.Process.Pid)
	}
	p.mu.Unlock()
	_ = p.Close()
	if s := p.Stats(); s.Instances != 0 {
		t.Errorf("after Close, %d instances", s.Instances)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("process %d still running after Close", pid)
		}
	}
	if err := <-done; err == nil {
		t.Error("the running invocation succeeded after Close")
	}
	if _, err := invoke(t, p, `{"echo":1}`); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close = %v, want ErrClosed", err)
	}
}

// Issue 27: Ctrl-C with warm instances printed a function error per
// instance: the idle instances' event/next got an empty answer at Close
// ("failed to parse deadline"), and their error posts a 307. A closing
// pool answers no next; the instances are stopped, silent.
func TestCloseIsSilent(t *testing.T) {
	p, logs := newPool(t, func(f *Function) { f.Env = map[string]string{"TESTFN_EXTENSION": "1ms"} })
	var wg sync.WaitGroup
	for range 4 { // several warm instances waiting in event/next
		wg.Go(func() { mustInvoke(t, p, `{"sleep":"200ms"}`, `"slept"`) })
	}
	wg.Wait()
	waitfor.Eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n := p.receiving.Load(); n < 2 {
			return fmt.Errorf("%d instances waiting for their next invocation", n)
		}
		return nil
	})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); strings.Contains(out, "deadline") || strings.Contains(out, "error") || strings.Contains(out, "307") {
		t.Errorf("Close made the instances log:\n%s", out)
	}
}

func TestCanceledCallerReturns(t *testing.T) {
	p, _ := newPool(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for p.Stats().Invocations == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	if _, err := p.Invoke(ctx, []byte(`{"sleep":"2s"}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Invoke = %v, want context.Canceled", err)
	}
}

func TestNewPoolChecksTheBinary(t *testing.T) {
	if _, err := NewPool(Function{Name: "x", Binary: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Fatal("NewPool with a missing binary succeeded")
	}
	if _, err := NewPool(Function{Binary: testfn}); err == nil {
		t.Fatal("NewPool without a name succeeded")
	}
}

// Report tells what Lambda's REPORT line tells: the first invocation of an
// instance carries its init and cold-start times, later ones do not. The
// bounds below come from the sleeps the function is told to do, not from
// how fast this machine is.
func TestReport(t *testing.T) {
	const initSleep, invokeSleep = 300 * time.Millisecond, 200 * time.Millisecond
	reports := make(chan Report, 8)
	p, _ := newPool(t, func(f *Function) {
		f.Env = map[string]string{"TESTFN_INIT": "sleep:" + initSleep.String()}
		f.Report = func(r Report) { reports <- r }
	})
	mustInvoke(t, p, `{"sleep":"`+invokeSleep.String()+`"}`, `"slept"`)
	cold := <-reports
	if cold.Instance != 1 || cold.RequestID == "" || cold.Err != nil {
		t.Errorf("first report = %+v, want instance 1's answer", cold)
	}
	if cold.Init < initSleep || cold.Duration < invokeSleep || cold.ColdStart < cold.Init+cold.Duration {
		t.Errorf("first report = %+v, want Init >= %v, Duration >= %v, ColdStart >= Init+Duration", cold, initSleep, invokeSleep)
	}
	_, err := invoke(t, p, `{"error":"no"}`)
	wantFunctionError(t, err, "errorString", "no")
	warm := <-reports
	if warm.Instance != 1 || warm.RequestID == cold.RequestID || warm.Init != 0 || warm.ColdStart != 0 {
		t.Errorf("second report = %+v, want a warm invocation of instance 1", warm)
	}
	if warm.Err == nil || warm.Err.Message != "no" {
		t.Errorf("second report's Err = %v, want the function's error", warm.Err)
	}
	select {
	case r := <-reports:
		t.Errorf("unexpected report %+v", r)
	default:
	}
}

// Recycle replaces every instance, as a configuration change does on
// Lambda: an idle one at once, a busy one after its answer, which it still
// gives; later invocations start new instances.
func TestRecycle(t *testing.T) {
	p, _ := newPool(t, nil)
	mustInvoke(t, p, `{"echo":1}`, "1")
	before := p.PIDs()
	var wg sync.WaitGroup
	var slow string
	var slowErr error
	wg.Go(func() { slow, slowErr = invoke(t, p, `{"sleep":"300ms"}`) })
	deadline := time.Now().Add(10 * time.Second)
	for p.Stats().Instances < 1 || p.Stats().Invocations < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the slow invocation did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Recycle()
	mustInvoke(t, p, `{"echo":2}`, "2")
	wg.Wait()
	if slowErr != nil || slow != `"slept"` {
		t.Errorf("the invocation in flight at Recycle = %s, %v; want its answer", slow, slowErr)
	}
	mustInvoke(t, p, `{"echo":3}`, "3")
	// A retired instance exits right after its answer.
	for deadline := time.Now().Add(10 * time.Second); slices.ContainsFunc(p.PIDs(), func(pid int) bool { return slices.Contains(before, pid) }); {
		if time.Now().After(deadline) {
			t.Fatalf("instances %v still run after Recycle (now %v)", before, p.PIDs())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An internal extension gets every INVOKE and the instance takes its next
// invocation only after the extension asked for its next event; the
// caller has its answer before the extension's work ends. With Freeze the
// idle process is stopped, and continued for the next invocation.
func TestExtensionsAndFreeze(t *testing.T) {
	p, _ := newPool(t, func(f *Function) {
		f.Env = map[string]string{"TESTFN_EXTENSION": "200ms"}
		f.Freeze = true
		f.MaxInstances = 1 // as busy as its extension keeps it
	})
	for i := range 3 {
		// Each invocation sees every earlier one finished by the
		// extension: none starts while the extension works.
		mustInvoke(t, p, `{"extension":true}`, fmt.Sprint(i))
	}
	waitfor.ProcessState(t, p.PIDs()[0], 'T', 10*time.Second)
	mustInvoke(t, p, `{"echo":1}`, "1") // continued for it
	// Registration closes with the runtime's first call to next.
	mustInvoke(t, p, `{"register":true}`, "403")
	wantStats(t, p, 5, 1)
}

// Update swaps the function's code: the invocation in flight answers from
// the old binary, later ones run the new one.
func TestUpdate(t *testing.T) {
	p, _ := newPool(t, nil)
	dir := t.TempDir()
	next := filepath.Join(dir, "bootstrap")
	b, err := os.ReadFile(testfn)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(next, b, 0o755); err != nil {
		t.Fatal(err)
	}
	mustInvoke(t, p, `{"env":"LAMBDA_TASK_ROOT"}`, strconv.Quote(filepath.Dir(testfn)))
	var wg sync.WaitGroup
	var slow string
	var slowErr error
	wg.Go(func() { slow, slowErr = invoke(t, p, `{"sleep":"300ms"}`) })
	for deadline := time.Now().Add(10 * time.Second); p.Stats().Invocations < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the slow invocation did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.Update(next); err != nil {
		t.Fatal(err)
	}
	mustInvoke(t, p, `{"env":"LAMBDA_TASK_ROOT"}`, strconv.Quote(dir))
	wg.Wait()
	if slowErr != nil || slow != `"slept"` {
		t.Errorf("the invocation in flight at Update = %s, %v; want its answer", slow, slowErr)
	}
	if err := p.Update(filepath.Join(dir, "missing")); err == nil {
		t.Error("Update to a missing binary = nil error")
	}
	mustInvoke(t, p, `{"env":"LAMBDA_TASK_ROOT"}`, strconv.Quote(dir))
}

// Issue 17, 2.7: another local process cannot take invocations from an
// instance's Runtime API (and so see callers' events, or answer for the
// function): the API is served under a path only the instance's
// environment holds. A request without it is refused at once and leaves
// the queue alone.
func TestRuntimeAPINeedsTheInstancesPath(t *testing.T) {
	p, _ := newPool(t, nil)
	got, err := invoke(t, p, `{"env":"AWS_LAMBDA_RUNTIME_API"}`)
	if err != nil {
		t.Fatal(err)
	}
	api, _ := strconv.Unquote(got)
	host, secret, ok := strings.Cut(api, "/")
	if !ok || len(secret) < 32 {
		t.Fatalf("AWS_LAMBDA_RUNTIME_API = %q, want host:port/<a secret of 32 characters or more>", api)
	}
	client := &http.Client{Timeout: 3 * time.Second}
	for _, u := range []string{
		"http://" + host + "/2018-06-01/runtime/invocation/next",
		"http://" + host + "/wrong/2018-06-01/runtime/invocation/next",
		"http://" + host + "/2020-01-01/extension/event/next",
	} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v (a request without the path must be refused, not served)", u, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", u, resp.StatusCode)
		}
	}
	mustInvoke(t, p, `{"echo":1}`, "1")
}
