package poll

import (
	"context"
	"testing"
	"time"
)

func TestEveryStopsWhenToldOrCancelled(t *testing.T) {
	n := 0
	done := make(chan struct{})
	go func() {
		Every(context.Background(), time.Millisecond, func() bool { n++; return n < 3 })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not stop when f returned false")
	}
	if n != 3 {
		t.Errorf("f ran %d times, want 3", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	Every(ctx, time.Hour, func() bool { ran = true; return true })
	if ran {
		t.Error("f ran after the context ended")
	}
}
