package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"tollgate/internal/testkit/fakeclock"
	"tollgate/internal/testkit/property"
)

// The promise of the package doc and docs/security-model.md: a key
// removed from the secret, or disabled in it, at tr is not accepted by the
// authorizer at or after tr+TTL while Secrets Manager answers; while it
// fails (errors, or no answer within the fetch timeout), the last good
// keys serve up to MaxStale, so never at or after tr+MaxStale. A freeze of
// the environment, however long and wherever it falls, changes neither.
//
// TestInvariantRemovedKeyBound checks it over generated schedules: a
// Lambda environment in model time, in both refresh modes, whose requests
// (each with its own deadline), key changes, freezes between invocations
// (thawed by the next invocation), and Secrets Manager fetches (answered
// after a latency under the timeout, failed, or hung until their deadline)
// are drawn at random, and where a fetch in flight when the environment is
// frozen ends at the thaw, by its answer or by its deadline, either first.
// Each accepted request for a key that was ended is checked against the
// bound. make verify runs many more cases (TOLLGATE_PROPERTY_CASES).
func TestInvariantRemovedKeyBound(t *testing.T) {
	property.Run(t, "removed key bound", 60, func(t *testing.T, rng *rand.Rand, counts *property.Counts) {
		s := newRemovalSim(t, rng, counts)
		s.run(150)
	})
}

// A model of Secrets Manager's answers to one fetch.
const (
	answerOK = iota
	answerError
	answerHang
)

// A fetch's end, as the model decides it.
const (
	endAnswer  = iota // the source's answer arrives (its value, or its error)
	endTimeout        // the fetch's deadline fires first
)

type removalSim struct {
	t      *testing.T
	rng    *rand.Rand
	counts *property.Counts
	clock  *fakeclock.Clock
	a      *Authorizer

	ext        bool          // keys refreshed by the extension after each response
	healthy    bool          // the source never fails in this schedule
	ttl        time.Duration // the authorizer's key TTL
	maxStale   time.Duration
	timeout    time.Duration // the model's fetch timeout
	health     int           // the source's answer to fetches starting now
	frozen     bool          // the environment is frozen until the next invocation
	now        time.Time     // model time
	registered chan *simFetch
	waits      chan struct{}
	seen       uint64    // fetches registered
	pending    *simFetch // the fetch in flight, if any (one at a time)
	thawed     bool      // pending's end is due at the thaw, at now
	thawEnd    int

	trace []string // the schedule's last events, for a failure's message

	// steadyGap, when set, is the longest gap between invocations: every
	// gap is drawn below it (TestInvariantSteadyTrafficNeverWaits).
	steadyGap time.Duration
	// requesting is set while a request runs, and requestWaited when it
	// waited for a fetch.
	requesting, requestWaited bool

	keys     []simKey
	nextKey  int
	ended    map[string]time.Time // key → when it was removed or disabled
	failures []time.Time          // when a fetch ended with the source failing
}

type simKey struct {
	id, key  string
	disabled bool
}

type simFetch struct {
	value   []byte
	start   time.Time
	answer  int
	latency time.Duration
	result  chan fetchResult
	run     *fetchRun
}

type fetchResult struct {
	value []byte
	err   error
}

func newRemovalSim(t *testing.T, rng *rand.Rand, counts *property.Counts) *removalSim {
	s := &removalSim{
		t: t, rng: rng, counts: counts,
		ext:        rng.IntN(2) == 0,
		healthy:    rng.IntN(2) == 0,
		ttl:        []time.Duration{time.Minute, DefaultTTL}[rng.IntN(2)],
		timeout:    3 * time.Second,
		now:        testNow,
		registered: make(chan *simFetch, 16),
		waits:      make(chan struct{}, 16),
		ended:      map[string]time.Time{},
	}
	s.maxStale = []time.Duration{2 * s.ttl, DefaultMaxStale}[rng.IntN(2)]
	s.clock = fakeclock.New(s.now)
	s.keys = []simKey{{id: "sentinel", key: simKeyValue(0)}}
	for range 3 {
		s.addKey()
	}
	// The model's fetch timeout is the only one: the real one is out of
	// reach, so no fetch ends by the machine's clock.
	a, _ := newTestAuthorizerAt(t, s.clock.Now, Config{TTL: s.ttl, MaxStale: s.maxStale, FetchTimeout: time.Hour}, SourceFunc(s.secretValue))
	a.store.afterResponse.Store(s.ext)
	a.store.waiting = func() { s.waits <- struct{}{} }
	s.a = a
	return s
}

// logf records an event of the schedule.
func (s *removalSim) logf(format string, args ...any) {
	const keep = 60
	if len(s.trace) == keep {
		s.trace = s.trace[1:]
	}
	s.trace = append(s.trace, fmt.Sprintf("%8s ", s.now.Sub(testNow).Round(time.Millisecond))+fmt.Sprintf(format, args...))
}

// fatalf fails the case with the schedule's last events.
func (s *removalSim) fatalf(format string, args ...any) {
	s.t.Fatalf(format+"\nschedule (TTL %s, MaxStale %s, extension %v, healthy %v), last events:\n  %s",
		append(args, s.ttl, s.maxStale, s.ext, s.healthy, strings.Join(s.trace, "\n  "))...)
}

func simKeyValue(n int) string { return fmt.Sprintf("tg_test_removal_sim_key_%06d_abcdefghij", n) }

func (s *removalSim) addKey() {
	s.nextKey++
	s.keys = append(s.keys, simKey{id: fmt.Sprintf("client-%d", s.nextKey), key: simKeyValue(s.nextKey)})
}

// secretValue is the source, called in the fetch's goroutine: the keyring
// as it is when the fetch starts, answered when the model says.
func (s *removalSim) secretValue(context.Context, string) ([]byte, error) {
	f := &simFetch{result: make(chan fetchResult, 1)}
	s.registered <- f
	r := <-f.result
	return r.value, r.err
}

func (s *removalSim) keyring() []byte {
	type key struct {
		ID       string `json:"id"`
		SHA256   string `json:"sha256"`
		Disabled bool   `json:"disabled,omitempty"`
	}
	var kr struct {
		Keys []key `json:"keys"`
	}
	for _, k := range s.keys {
		kr.Keys = append(kr.Keys, key{k.id, Digest(k.key), k.disabled})
	}
	b, _ := json.Marshal(kr)
	return b
}

// register takes a fetch that has reached the source: what it reads, and
// how the source will answer it.
func (s *removalSim) register(f *simFetch) {
	s.seen++
	s.a.store.mu.Lock()
	f.run = s.a.store.inflight
	s.a.store.mu.Unlock()
	f.value, f.start = s.keyring(), s.clock.Now()
	if f.run == nil || !f.run.started.Equal(f.start) {
		s.t.Fatalf("a fetch reached the source at %s, its run started at %v", f.start, f.run)
	}
	f.answer = s.health
	switch f.answer {
	case answerOK:
		f.latency = time.Duration(5+s.rng.IntN(2900)) * time.Millisecond
	case answerError:
		f.latency = time.Duration(5+s.rng.IntN(1000)) * time.Millisecond
	}
	s.pending = f
	s.counts.Add("fetches", 1)
	s.logf("fetch starts: answer %d after %s", f.answer, f.latency)
}

// syncFetches waits until every fetch the refresher started has reached
// the source.
func (s *removalSim) syncFetches() {
	for {
		s.a.store.mu.Lock()
		started := s.a.store.fetches
		s.a.store.mu.Unlock()
		if started == s.seen {
			return
		}
		s.register(<-s.registered)
	}
}

// nextEnd is when the pending fetch ends while the environment runs.
func (s *removalSim) nextEnd() (time.Time, int) {
	f := s.pending
	if f.answer == answerHang {
		return f.start.Add(s.timeout), endTimeout
	}
	return f.start.Add(f.latency), endAnswer
}

// end ends the pending fetch at now, and waits for the refresher to have
// taken its result.
func (s *removalSim) end(how int) {
	f := s.pending
	s.pending, s.thawed = nil, false
	var r fetchResult
	switch {
	case how == endTimeout:
		r.err = fmt.Errorf("operation error Secrets Manager: GetSecretValue: %w", context.DeadlineExceeded)
	case f.answer == answerError:
		r.err = errors.New("operation error Secrets Manager: GetSecretValue: https response error StatusCode: 500")
	default:
		r.value = f.value
	}
	if f.answer != answerOK {
		s.failures = append(s.failures, s.now) // the source failed this fetch
	}
	if f.answer == answerOK && how == endTimeout {
		s.counts.Add("fetches ended by a freeze", 1)
	}
	s.clock.Set(s.now)
	f.result <- r
	<-f.run.done
	s.logf("fetch ends (started %s): end %d, answer %d, outcome %d", f.start.Sub(testNow).Round(time.Millisecond), how, f.answer, f.run.outcome)
}

// advance lets model time run to t: a running environment's fetch ends
// when its answer or deadline comes; a frozen one's waits for the thaw.
func (s *removalSim) advance(t time.Time) {
	for !s.frozen && s.pending != nil && !s.thawed {
		at, how := s.nextEnd()
		if at.After(t) {
			break
		}
		s.now = at
		s.end(how)
	}
	s.now = t
	s.clock.Set(t)
}

// thaw ends a freeze at now: the pending fetch's answer and deadline, if
// both came during the freeze, race; it ends at the thaw, before or after
// the invocation that thaws the environment has started.
func (s *removalSim) thaw() {
	s.frozen = false
	s.logf("thaw")
	f := s.pending
	if f == nil {
		return
	}
	answered := f.answer != answerHang && !f.start.Add(f.latency).After(s.now)
	expired := !f.start.Add(s.timeout).After(s.now)
	switch {
	case answered && expired:
		s.thawEnd = []int{endAnswer, endTimeout}[s.rng.IntN(2)]
	case answered:
		s.thawEnd = endAnswer
	case expired:
		s.thawEnd = endTimeout
	default:
		return // it runs on after the thaw
	}
	s.thawed = true
	if s.rng.IntN(2) == 0 {
		s.end(s.thawEnd)
	}
}

// await runs call (a request, the extension's refresh, the first load) in
// its own goroutine until it returns, ending fetches as it waits on them,
// and cutting it off at its deadline.
func (s *removalSim) await(deadline time.Time, call func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	for {
		select {
		case err := <-done:
			s.syncFetches()
			if s.thawed {
				s.end(s.thawEnd)
			}
			s.now = s.clock.Now()
			return err
		case f := <-s.registered:
			s.register(f)
		case <-s.waits:
			if s.requesting {
				s.requestWaited = true
			}
			s.syncFetches()
			if s.thawed {
				s.end(s.thawEnd)
				continue
			}
			at, how := s.nextEnd()
			if at.After(deadline) {
				s.now = deadline
				s.clock.Set(deadline)
				s.logf("deadline")
				cancel()
				continue
			}
			s.now = at
			s.end(how)
		}
	}
}

func (s *removalSim) run(steps int) {
	if err := s.await(s.now.Add(10*time.Second), s.a.Load); err != nil {
		s.t.Fatalf("first load: %v", err)
	}
	for range steps {
		gap := s.gap()
		next := s.now.Add(gap)
		if s.rng.IntN(3) == 0 {
			s.advance(s.now.Add(time.Duration(s.rng.Int64N(int64(gap)))))
			s.change()
		}
		if !s.healthy && s.rng.IntN(5) == 0 {
			s.health = []int{answerOK, answerOK, answerError, answerHang}[s.rng.IntN(4)]
		}
		s.advance(next)
		s.request()
	}
}

func (s *removalSim) gap() time.Duration {
	if s.steadyGap > 0 {
		// Below the bound: at random, or just under it, or short, so
		// that a request just before the refresh threshold is followed
		// by one just under the bound.
		switch s.rng.IntN(3) {
		case 0:
			return s.steadyGap - time.Duration(1+s.rng.Int64N(int64(time.Second)))
		case 1:
			return time.Duration(1 + s.rng.Int64N(int64(s.steadyGap/4)))
		}
		return time.Duration(1 + s.rng.Int64N(int64(s.steadyGap-1)))
	}
	switch s.rng.IntN(3) {
	case 0:
		return time.Duration(1+s.rng.IntN(5000)) * time.Millisecond
	case 1:
		return time.Duration(20+s.rng.IntN(200)) * time.Second
	}
	return time.Duration(3+s.rng.IntN(20)) * time.Minute
}

// change adds a client, or removes or disables one (never the sentinel,
// so that the keyring is never empty).
func (s *removalSim) change() {
	var live []int
	for i, k := range s.keys {
		if i > 0 && !k.disabled {
			live = append(live, i)
		}
	}
	if len(live) == 0 || s.rng.IntN(3) == 0 {
		s.addKey()
		return
	}
	i := live[s.rng.IntN(len(live))]
	s.ended[s.keys[i].key] = s.now
	s.logf("%s ended", s.keys[i].id)
	if s.rng.IntN(2) == 0 {
		s.keys[i].disabled = true
	} else {
		s.keys = slices.Delete(s.keys, i, i+1)
	}
	s.counts.Add("keys ended", 1)
}

// request is one invocation at now: thawing the environment if frozen,
// presenting a live, an ended or an unknown key, within its own deadline;
// then, with the extension, the refresh after the response; then maybe a
// freeze.
func (s *removalSim) request() {
	if s.frozen {
		s.thaw()
	}
	// An ended key is most telling soon after its end: the three ended
	// last are presented most.
	var key string
	var endedKeys []string
	for k := range s.ended {
		endedKeys = append(endedKeys, k)
	}
	slices.SortFunc(endedKeys, func(a, b string) int { return s.ended[b].Compare(s.ended[a]) })
	switch n := s.rng.IntN(10); {
	case n < 4 && len(endedKeys) > 0:
		key = endedKeys[s.rng.IntN(min(3, len(endedKeys)))]
	case n < 9:
		key = s.keys[s.rng.IntN(len(s.keys))].key
	default:
		key = unknownKey
	}
	arrived := s.now
	deadline := arrived.Add([]time.Duration{time.Second, 5 * time.Second, 29 * time.Second}[s.rng.IntN(3)])
	s.requesting, s.requestWaited = true, false
	err := s.await(deadline, func(ctx context.Context) error {
		_, err := s.a.Invoke(ctx, tokenEvent("Bearer "+key, testARN))
		return err
	})
	s.requesting = false
	s.counts.Add("requests", 1)
	s.logf("request (arrived %s, deadline %s): %.24s… %v", arrived.Sub(testNow).Round(time.Millisecond), deadline.Sub(arrived), key, err)
	if tr, ok := s.ended[key]; ok {
		s.check(tr, arrived, err)
	}
	// And no fail-closed answer without cause: with Secrets Manager
	// answering, a key that was never ended is accepted by a request
	// that can wait longer than a fetch takes.
	if key == s.keys[0].key && s.healthy && deadline.Sub(arrived) > s.timeout && err != nil {
		s.fatalf("the sentinel key, never ended, was refused while Secrets Manager answered: %v", err)
	}
	if s.ext {
		_ = s.await(s.now.Add(s.timeout+afterResponseGrace), func(ctx context.Context) error {
			s.a.store.refreshDue(ctx)
			return nil
		})
		s.a.mayFreeze() // the extension asks for its next event
	}
	if s.rng.IntN(3) > 0 {
		s.frozen = true
		s.counts.Add("freezes", 1)
		s.logf("freeze")
	}
}

// check holds an ended key's answer at arrived to the bound.
func (s *removalSim) check(tr, arrived time.Time, err error) {
	if err != nil {
		s.counts.Add("ended keys refused", 1)
		return
	}
	late := arrived.Sub(tr)
	if late < s.ttl {
		return
	}
	if late >= s.maxStale {
		s.fatalf("a key ended %s earlier was accepted, past MaxStale", late)
	}
	// Past the TTL only while the source fails: a failure recorded less
	// than the longest backoff before the request, or during it.
	failing := slices.ContainsFunc(s.failures, func(f time.Time) bool {
		return f.After(arrived.Add(-maxBackoff)) && !f.After(s.now)
	})
	if s.healthy || !failing {
		s.fatalf("a key ended %s earlier was accepted, past the TTL, while Secrets Manager answered", late)
	}
	s.counts.Add("ended keys accepted while the source failed", 1)
}
