package reqid

import (
	"regexp"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := New()
		if !shape.MatchString(id) {
			t.Fatalf("New() = %q, not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("New() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestTraceID(t *testing.T) {
	got := TraceID("c6af9ac6-7b61-41e6-9a41-93e8deadbeef", time.Date(2026, 11, 21, 6, 29, 15, 0, time.UTC))
	if want := "Root=1-6b013a3b-c6af9ac67b6141e69a4193e8"; got != want {
		t.Errorf("TraceID() = %s, want %s", got, want)
	}
}
