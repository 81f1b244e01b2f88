package dudect

import (
	"math"
	"testing"
	"time"
)

// Welch's t, worked by hand: x is 1..5 and y is 3..7, each repeated 40
// times. Both variances are 400/199 (40 cycles of squared deviations
// summing to 10, over n-1), the means differ by 2, so
// |t| = 2 / sqrt(2 * (400/199) / 200).
func TestWelch(t *testing.T) {
	var tt tTest
	for i := range 200 {
		tt.add(0, float64(1+i%5))
		tt.add(1, float64(3+i%5))
	}
	if v := tt.acc[0].variance(); math.Abs(v-400.0/199) > 1e-9 {
		t.Errorf("variance = %v, want %v", v, 400.0/199)
	}
	want := 2 / math.Sqrt(2*(400.0/199)/200)
	if got := tt.abs(); math.Abs(got-want) > 1e-9 {
		t.Errorf("|t| = %v, want %v", got, want)
	}

	var few tTest
	for i := range minPerClass - 1 {
		few.add(0, float64(i))
		few.add(1, float64(i*1000))
	}
	if got := few.abs(); got != 0 {
		t.Errorf("|t| with %d per class = %v, want 0 (too few to count)", minPerClass-1, got)
	}

	var same tTest
	for range 2 * minPerClass {
		same.add(0, 7)
		same.add(1, 7)
	}
	if got := same.abs(); got != 0 {
		t.Errorf("|t| of identical constants = %v, want 0", got)
	}
}

// spin does n rounds of work the compiler cannot remove.
//
//go:noinline
func spin(n int) uint64 {
	x := uint64(n)
	for i := range n {
		x = x*6364136223846793005 + uint64(i)
	}
	return x
}

var sink uint64

// work is an Op that spins a or b rounds, by class.
func work(a, b int) Op {
	var n int
	return Op{
		Prepare: func(class int) { n = [2]int{a, b}[class] },
		Run:     func() { sink += spin(n) },
	}
}

// The harness finds a class that does more work, and finds none when both
// classes do the same.
func TestMeasure(t *testing.T) {
	cfg := Config{Samples: 20_000, MaxDuration: 10 * time.Second, Seed: 1}
	leaky := Repeat(cfg, 3, func() Op { return work(200, 300) })
	if !Consistent(leaky) {
		t.Errorf("200 vs 300 rounds of work: %+v, want a leak in most runs", leaky)
	}
	for _, r := range leaky {
		if r.N[0]+r.N[1] != cfg.Samples || r.N[0] < cfg.Samples/3 || r.N[1] < cfg.Samples/3 {
			t.Errorf("classes measured %v times, want about half of %d each", r.N, cfg.Samples)
		}
		if r.MeanNs[1] <= r.MeanNs[0] {
			t.Errorf("mean times %v: the class doing more work is not slower", r.MeanNs)
		}
	}
	even := Repeat(cfg, 3, func() Op { return work(200, 200) })
	if Consistent(even) {
		t.Errorf("the same work for both classes: %+v, want no leak", even)
	}
}

func TestMeasureStopsAtMaxDuration(t *testing.T) {
	r := Measure(Config{Samples: 1 << 40, MaxDuration: 50 * time.Millisecond, Warmup: 10}, work(100, 100))
	if n := r.N[0] + r.N[1]; n == 0 || n >= 1<<40 {
		t.Errorf("measured %d times, want a run cut short by MaxDuration", n)
	}
}

func TestConsistent(t *testing.T) {
	hi, lo := Result{T: Threshold + 1}, Result{T: Threshold - 1}
	for _, c := range []struct {
		runs []Result
		want bool
	}{
		{[]Result{hi, hi, lo}, true},
		{[]Result{hi, lo, lo}, false},
		{[]Result{hi, lo}, false},
		{[]Result{hi}, true},
		{nil, false},
		{[]Result{{T: Threshold}}, false}, // at the threshold is not above it
	} {
		if got := Consistent(c.runs); got != c.want {
			t.Errorf("Consistent(%v) = %v, want %v", c.runs, got, c.want)
		}
	}
}
