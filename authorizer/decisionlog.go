package authorizer

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The decision line, off the request path.
//
// Writing a line to Lambda's standard output (a pipe) is a system call of
// a few microseconds, more than the decision; encoding it with slog's JSON
// handler is as much again. So with Config.DecisionLog set (FromEnv sets
// it to standard output) the authorizer encodes the line itself, into a
// buffer, field for field as the Logger's JSON handler would write it
// (FuzzDecisionLine holds the two equal), and writes it: under Serve (as
// deployed) after the answer is posted and before the next event is asked
// for; with the extension (StartExtension), when it wakes after the
// response, before it asks for its next event; otherwise at once. Lambda
// freezes the environment, or shuts it down, only after those asks, so no
// line is lost at a freeze or a shutdown, and lines are written in the
// order of their invocations.

// DeferDecisionLog makes the decision lines (Config.DecisionLog) wait in a
// buffer until flush is called, as Serve and the extension
// (StartExtension) do after each response: for a program that runs its own after-response
// hook, or a benchmark of the request path. Without a DecisionLog it does
// nothing.
func (a *Authorizer) DeferDecisionLog() (flush func()) {
	if a.decisions == nil {
		return func() {}
	}
	a.decisions.deferred.Store(true)
	return a.decisions.flush
}

// decisionLog buffers decision lines for w.
type decisionLog struct {
	w        io.Writer
	deferred atomic.Bool // Serve or the extension writes the lines after each response

	mu    sync.Mutex
	buf   []byte // lines not yet written
	spare []byte // the buffer being written, for reuse
}

// add appends one line, and writes it now unless it is deferred.
func (l *decisionLog) add(line func([]byte) []byte) {
	l.mu.Lock()
	l.buf = line(l.buf)
	l.mu.Unlock()
	if !l.deferred.Load() {
		l.flush()
	}
}

// flush writes the buffered lines, in one write. A write that fails is
// dropped: a log that cannot be written must not change any answer.
func (l *decisionLog) flush() {
	l.mu.Lock()
	if len(l.buf) == 0 {
		l.mu.Unlock()
		return
	}
	out := l.buf
	l.buf, l.spare = l.spare[:0], nil
	l.mu.Unlock()
	_, _ = l.w.Write(out)
	l.mu.Lock()
	// The buffer is kept for the next lines unless it grew past 4 MiB
	// (some 8,000 lines of about 500 bytes, with their metrics): one
	// that is dropped at each flush is grown again from nothing.
	if l.spare == nil && cap(out) <= 4<<20 {
		l.spare = out[:0]
	}
	l.mu.Unlock()
}

// lineMetrics are the metrics a decision line carries besides Decisions
// (metrics.go): the function they are of, whether the decision is the
// environment's first, and the age of its keys, when they were read.
type lineMetrics struct {
	on       bool // without it, the line carries no metric (Config.NoMetrics)
	function string
	cold     bool
	ageKnown bool
	age      int64 // seconds
}

// refusal reports whether an outcome is a refusal, whose metric has the
// reason as a dimension too (an error's reason is its text, unbounded).
func refusal(outcome string) bool { return outcome == outcomeDeny || outcome == outcomeUnauthorized }

// decisionAttrs are a decision line's attributes after its format:
// outcome, principal, reason, requestId, duration, and its metrics in
// CloudWatch's embedded metric format (function, Decisions, ColdStarts on
// a cold start, KeyringAge when known, and the "_aws" directive).
func decisionAttrs(t time.Time, d *decision, requestID string, dur time.Duration, m lineMetrics) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("outcome", d.outcome),
		slog.String("principal", d.principal),
		slog.String("reason", d.reason),
		slog.String("requestId", requestID),
		slog.Duration("duration", dur),
	}
	if !m.on {
		return attrs
	}
	attrs = append(attrs, slog.String("function", m.function), slog.Int(MetricDecisions, 1))
	if m.cold {
		attrs = append(attrs, slog.Int(MetricColdStarts, 1))
	}
	if m.ageKnown {
		attrs = append(attrs, slog.Int64(MetricKeyringAge, m.age))
	}
	return append(attrs, slog.Any("_aws", json.RawMessage(appendDecisionEMF(nil, t, refusal(d.outcome), m.cold, m.ageKnown))))
}

// decisionLine appends the decision's JSON line as slog.JSONHandler writes
// a record of message "decision" at level with the attributes format (when
// set) and decisionAttrs; ok is false when a string needs escaping, which
// the caller leaves to the handler.
func decisionLine(buf []byte, t time.Time, level slog.Level, format string, d *decision, requestID string, dur time.Duration, m lineMetrics) ([]byte, bool) {
	for _, s := range []string{format, d.outcome, d.principal, d.reason, requestID, m.function} {
		if !plainJSON(s) {
			return buf, false
		}
	}
	if y := t.Year(); y < 0 || y >= 10000 {
		return buf, false
	}
	buf = append(buf, `{"time":"`...)
	buf = t.AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","level":"`...)
	buf = append(buf, level.String()...)
	buf = append(buf, `","msg":"decision"`...)
	if format != "" {
		buf = append(buf, `,"format":"`...)
		buf = append(buf, format...)
		buf = append(buf, '"')
	}
	buf = append(buf, `,"outcome":"`...)
	buf = append(buf, d.outcome...)
	buf = append(buf, `","principal":"`...)
	buf = append(buf, d.principal...)
	buf = append(buf, `","reason":"`...)
	buf = append(buf, d.reason...)
	buf = append(buf, `","requestId":"`...)
	buf = append(buf, requestID...)
	buf = append(buf, `","duration":`...)
	buf = strconv.AppendInt(buf, int64(dur), 10)
	if !m.on {
		return append(buf, "}\n"...), true
	}
	buf = append(buf, `,"function":"`...)
	buf = append(buf, m.function...)
	buf = append(buf, `","Decisions":1`...)
	if m.cold {
		buf = append(buf, `,"ColdStarts":1`...)
	}
	if m.ageKnown {
		buf = append(buf, `,"KeyringAge":`...)
		buf = strconv.AppendInt(buf, m.age, 10)
	}
	buf = append(buf, `,"_aws":`...)
	buf = appendDecisionEMF(buf, t, refusal(d.outcome), m.cold, m.ageKnown)
	return append(buf, "}\n"...), true
}

// plainJSON reports whether s is written into a JSON string as it is: no
// byte below 0x20 or above 0x7e, no quote and no backslash.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// logDecision writes d's line: through the decision log when there is
// one and the line is plain, else through the handler.
func (a *Authorizer) logDecision(ctx context.Context, h slog.Handler, level slog.Level, start time.Time, d *decision, requestID string) {
	dur := a.since(start)
	m := lineMetrics{on: a.metrics, function: a.function, cold: !a.decided.Load() && !a.decided.Swap(true)}
	if st := a.store.state.Load(); m.on && st != nil && !st.gone {
		m.ageKnown, m.age = true, int64(start.Sub(st.loadedAt)/time.Second)
	}
	if a.decisions != nil {
		var ok bool
		format := ""
		if d.format != 0 {
			format = d.format.String()
		}
		a.decisions.add(func(buf []byte) []byte {
			var out []byte
			if out, ok = decisionLine(buf, start, level, format, d, requestID, dur, m); ok {
				return out
			}
			return buf
		})
		if ok {
			return
		}
		// Lines buffered before this one go first.
		a.decisions.flush()
	}
	r := slog.NewRecord(start, level, "decision", 0)
	r.AddAttrs(decisionAttrs(start, d, requestID, dur, m)...)
	_ = h.Handle(ctx, r) // a log that cannot be written must not change the answer
}
