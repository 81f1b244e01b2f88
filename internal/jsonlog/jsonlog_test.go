package jsonlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/slogtest"
	"time"
)

func decodeLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// The contract of slog.Handler, checked by the standard library's own suite.
func TestSlogtest(t *testing.T) {
	var buf bytes.Buffer
	h := New(&buf, slog.LevelDebug)
	err := slogtest.TestHandler(h, func() []map[string]any {
		return decodeLines(t, buf.Bytes())
	})
	if err != nil {
		t.Fatal(err)
	}
}

type valuer struct{ v string }

func (v valuer) LogValue() slog.Value { return slog.StringValue("resolved:" + v.v) }

// Every line must decode to the same document slog.JSONHandler writes,
// but for the time, which jsonlog writes in UTC to the millisecond.
func TestSameDocumentAsJSONHandler(t *testing.T) {
	when := time.Date(2026, 11, 21, 9, 8, 7, 654321000, time.FixedZone("X", 3600))
	records := []struct {
		name  string
		log   func(l *slog.Logger)
		attrs []slog.Attr
	}{
		{name: "scalars", log: func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "decision",
				slog.String("outcome", "allow"), slog.Int("n", -3), slog.Uint64("u", 7),
				slog.Float64("f", 1.5), slog.Float64("big", 1e21), slog.Bool("b", true),
				slog.Duration("d", 1234*time.Microsecond), slog.Time("t", when))
		}},
		{name: "escapes", log: func(l *slog.Logger) {
			l.Warn("quote \" backslash \\ newline \n tab \t nul \x00 bell \a", "k\"ey", "é ü 日本 \u2028 \u2029 <>&", "bad", "\xff\xfe")
		}},
		{name: "groups", log: func(l *slog.Logger) {
			l.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h").Error("m", "c", 3, slog.Group("inner", "d", 4), slog.Group("", "inlined", 5))
		}},
		{name: "empty group dropped", log: func(l *slog.Logger) {
			l.WithGroup("g").Info("m")
			l.Info("m", slog.Group("empty"))
		}},
		{name: "any values", log: func(l *slog.Logger) {
			l.Info("m", "err", errors.New("boom"), "list", []string{"AWSCURRENT", "AWSPREVIOUS"}, "map", map[string]int{"x": 1}, "valuer", valuer{"v"}, "nil", nil)
		}},
		{name: "levels", log: func(l *slog.Logger) {
			l.Debug("d")
			l.Log(context.Background(), slog.LevelWarn+2, "w2")
		}},
	}
	for _, rec := range records {
		t.Run(rec.name, func(t *testing.T) {
			var got, want bytes.Buffer
			rec.log(slog.New(New(&got, slog.LevelDebug)))
			rec.log(slog.New(slog.NewJSONHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug})))
			g, w := decodeLines(t, got.Bytes()), decodeLines(t, want.Bytes())
			if len(g) != len(w) {
				t.Fatalf("%d lines, want %d:\n%s", len(g), len(w), got.String())
			}
			for i := range g {
				delete(g[i], "time")
				delete(w[i], "time")
				if !reflect.DeepEqual(g[i], w[i]) {
					t.Errorf("line %d = %v\nwant %v", i, g[i], w[i])
				}
			}
		})
	}
}

func TestTimeFormat(t *testing.T) {
	var buf bytes.Buffer
	when := time.Date(2026, 1, 2, 3, 4, 5, 6789000, time.FixedZone("X", -2*3600))
	r := slog.NewRecord(when, slog.LevelInfo, "m", 0)
	if err := New(&buf, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if want := `{"time":"2026-01-02T05:04:05.006Z","level":"INFO","msg":"m"}` + "\n"; buf.String() != want {
		t.Errorf("line = %s, want %s", buf.String(), want)
	}
	// A zero time is left out, as the slog.Handler contract asks.
	buf.Reset()
	if err := New(&buf, nil).Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "time") {
		t.Errorf("zero time written: %s", buf.String())
	}
}

func TestNonFiniteFloatsStayJSON(t *testing.T) {
	var buf bytes.Buffer
	slog.New(New(&buf, nil)).Info("m", "nan", math.NaN(), "inf", math.Inf(1), "ninf", math.Inf(-1))
	lines := decodeLines(t, buf.Bytes())
	if lines[0]["nan"] != "NaN" || lines[0]["inf"] != "+Inf" || lines[0]["ninf"] != "-Inf" {
		t.Errorf("line = %v", lines[0])
	}
}

func TestLevel(t *testing.T) {
	h := New(io.Discard, slog.LevelWarn)
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelWarn) {
		t.Error("Enabled does not follow the level")
	}
}

func ExampleNew() {
	h := New(os.Stdout, slog.LevelInfo).WithAttrs([]slog.Attr{slog.String("format", "TOKEN")})
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "decision", 0) // a zero time is left out
	r.AddAttrs(slog.String("outcome", "allow"), slog.String("principal", "mobile-app"))
	_ = h.Handle(context.Background(), r)
	// Output:
	// {"level":"INFO","msg":"decision","format":"TOKEN","outcome":"allow","principal":"mobile-app"}
}

func BenchmarkHandle(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"jsonlog", New(io.Discard, nil)},
		{"slog.JSONHandler", slog.NewJSONHandler(io.Discard, nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := bc.h.WithAttrs([]slog.Attr{slog.String("format", "TOKEN")})
			ctx := context.Background()
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				r := slog.NewRecord(now, slog.LevelInfo, "decision", 0)
				r.AddAttrs(slog.String("outcome", "allow"), slog.String("principal", "mobile-app"),
					slog.String("reason", ""), slog.String("requestId", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"),
					slog.Duration("duration", 1234))
				_ = h.Handle(ctx, r)
			}
		})
	}
}

// Cached seconds never leak into the next second, minute or day.
func TestTimeAcrossSeconds(t *testing.T) {
	var buf bytes.Buffer
	h := New(&buf, nil)
	for _, when := range []time.Time{
		time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 5e6, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 1, 120e6, time.UTC),
	} {
		buf.Reset()
		_ = h.Handle(context.Background(), slog.NewRecord(when, slog.LevelInfo, "m", 0))
		if want := `"time":"` + when.Format("2006-01-02T15:04:05.000Z") + `"`; !strings.Contains(buf.String(), want) {
			t.Errorf("line = %s, want %s", buf.String(), want)
		}
	}
}
