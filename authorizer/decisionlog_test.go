package authorizer

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"tollgate/internal/emf"
)

// slogLine is the line slog's JSON handler writes for a decision record,
// as Invoke wrote it before the decision log.
func slogLine(t time.Time, level slog.Level, format string, d *decision, requestID string, dur time.Duration, m lineMetrics) []byte {
	var buf bytes.Buffer
	var h slog.Handler = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	if format != "" {
		h = h.WithAttrs([]slog.Attr{slog.String("format", format)})
	}
	r := slog.NewRecord(t, level, "decision", 0)
	r.AddAttrs(decisionAttrs(t, d, requestID, dur, m)...)
	_ = h.Handle(context.Background(), r)
	return buf.Bytes()
}

// The decision line the authorizer encodes itself is, byte for byte, the
// line slog's JSON handler writes for the same record; a string it cannot
// write as it is goes to the handler instead (ok false).
func FuzzDecisionLine(f *testing.F) {
	f.Add(int64(1796200000123456789), int64(8), "TOKEN", "allow", "mobile-app", "", "c0ffee-1", int64(1234), "tollgate-dev-authorizer", uint8(3), int64(42))
	f.Add(int64(0), int64(0), "", "error", "", "malformed event: not JSON", "", int64(-5), "", uint8(0), int64(0))
	f.Add(int64(1796200000000000000), int64(4), "HTTP", "unauthorized", "a\"b", "x\\y\n", "\u2028", int64(0), "fn", uint8(1), int64(-1))
	f.Add(int64(-62135596800000000), int64(0), "REQUEST", "deny", "é", "<&>", "\x00", int64(1<<62), "f\"n", uint8(2), int64(1<<40))
	f.Add(int64(1796200000123456789), int64(0), "TOKEN", "deny", "mobile-app", "route not allowed", "r", int64(7), "fn", uint8(4|1), int64(3))
	f.Fuzz(func(t *testing.T, ns, lvl int64, format, outcome, principal, reason, requestID string, dur int64, function string, flags uint8, age int64) {
		tm := time.Unix(0, ns).UTC()
		level := []slog.Level{slog.LevelInfo, slog.LevelError, slog.LevelWarn, slog.LevelDebug}[uint64(lvl)%4]
		d := &decision{outcome: outcome, principal: principal, reason: reason}
		m := lineMetrics{on: flags&4 == 0, function: function, cold: flags&1 != 0, ageKnown: flags&2 != 0, age: age}
		got, ok := decisionLine([]byte("prefix"), tm, level, format, d, requestID, time.Duration(dur), m)
		if !ok {
			if string(got) != "prefix" {
				t.Fatalf("a refused line changed the buffer: %q", got)
			}
			for _, s := range []string{format, outcome, principal, reason, requestID, function} {
				if !plainJSON(s) {
					return
				}
			}
			if y := tm.Year(); y >= 0 && y < 10000 {
				t.Fatalf("refused a plain line: %q %q %q %q %q at %v", format, outcome, principal, reason, requestID, tm)
			}
			return
		}
		want := slogLine(tm, level, format, d, requestID, time.Duration(dur), m)
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("decisionLine =\n%s\nslog writes\n%s", got[len("prefix"):], want)
		}
		// The metrics' promise (docs/running-it.md): no dimension names a
		// client, and only a refusal's reason is one, never an error's
		// text; CloudWatch extracts the line as written.
		values, err := emf.Parse(bytes.TrimSpace(want))
		if err != nil {
			t.Fatalf("%v: %s", err, want)
		}
		for _, v := range values {
			if _, ok := v.Dimensions["principal"]; ok {
				t.Fatalf("a metric by principal: %s", want)
			}
			if _, ok := v.Dimensions["reason"]; ok && !refusal(outcome) {
				t.Fatalf("a metric by the reason of outcome %q: %s", outcome, want)
			}
		}
		if !m.on && len(values) != 0 {
			t.Fatalf("metrics off, yet %d values: %s", len(values), want)
		}
	})
}

// syncBuffer is a writer tests read while the authorizer writes.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Without the extension, each decision line is written as it is decided;
// with it, the lines wait for the extension's flush after the response,
// and come out whole and in order, in one write; a line with a string that
// needs escaping goes through the handler, after the lines before it. When
// the extension stops, lines are written at once again.
func TestDecisionLogDeferred(t *testing.T) {
	out := &syncBuffer{}
	a, _ := newTestAuthorizer(t, Config{DecisionLog: out, Logger: slog.New(slog.NewJSONHandler(out, nil))}, nil)
	invoke := func(token string) {
		t.Helper()
		_, _ = a.Invoke(context.Background(), tokenEvent(token, testARN))
	}
	invoke("Bearer " + mobileKey)
	if n := strings.Count(out.String(), `"msg":"decision"`); n != 1 {
		t.Fatalf("without the extension: %d lines after one decision, want 1:\n%s", n, out)
	}
	a.decisions.deferred.Store(true) // as StartExtension does
	before := out.writes
	invoke("Bearer " + mobileKey)
	invoke("Bearer " + unknownKey)
	if out.writes != before {
		t.Fatalf("with the extension: %d writes on the request path", out.writes-before)
	}
	a.decisions.flush()
	lines := decisionLines(out.String())
	if out.writes != before+1 || len(lines) != 3 || !strings.Contains(lines[1], `"outcome":"allow"`) || !strings.Contains(lines[2], `"outcome":"unauthorized"`) {
		t.Fatalf("after the flush: %d writes, lines:\n%s", out.writes-before, out)
	}
	// A reason with a quote: the handler writes its line, after the one
	// buffered before it.
	invoke("Bearer " + mobileKey)
	a.logDecision(context.Background(), a.logNone.Handler(), slog.LevelError, testNow,
		&decision{outcome: outcomeError, reason: `bad "input"`}, "")
	lines = decisionLines(out.String())
	if len(lines) != 5 || !strings.Contains(lines[3], `"outcome":"allow"`) || !strings.Contains(lines[4], `"outcome":"error"`) {
		t.Fatalf("a line for the handler: lines\n%s", out)
	}
	a.decisions.deferred.Store(false) // the extension stopped
	invoke("Bearer " + mobileKey)
	if n := strings.Count(out.String(), `"msg":"decision"`); n != 6 {
		t.Fatalf("after the extension stopped: %d lines, want 6", n)
	}
}

// decisionLines are the decision lines of a log.
func decisionLines(log string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		if strings.Contains(l, `"msg":"decision"`) {
			out = append(out, l)
		}
	}
	return out
}
