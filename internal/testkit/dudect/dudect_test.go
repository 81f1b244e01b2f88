package dudect

import (
	"math"
	"math/rand/v2"
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

// noisyClock is a deterministic stand-in for the monotonic clock: each
// Run of its op advances it by the class's cost plus noise drawn from a
// seeded generator, as a loaded machine adds it: a spread around the cost,
// and now and then a long stall (an interrupt, a preemption) of 20 to 200
// times the cost. The noise does not depend on the class.
type noisyClock struct {
	now   time.Duration
	cost  [2]float64
	class int
	rng   *rand.Rand
}

func newNoisyClock(seed uint64, a, b float64) *noisyClock {
	return &noisyClock{cost: [2]float64{a, b}, rng: rand.New(rand.NewPCG(seed, 7))}
}

func (c *noisyClock) read() time.Duration { return c.now }

func (c *noisyClock) op() Op {
	return Op{
		Prepare: func(class int) { c.class = class },
		Run: func() {
			d := c.cost[c.class] + 25*c.rng.NormFloat64()
			if c.rng.IntN(100) == 0 {
				d += c.cost[0] * float64(20+c.rng.IntN(180))
			}
			c.now += time.Duration(max(d, 1))
		},
	}
}

// measureNoisy is Repeat over noisyClocks of costs a and b: a run is
// decided by its seeds alone, so the outcome is the same on any machine
// under any load.
func measureNoisy(cfg Config, a, b float64) []Result {
	out := make([]Result, 3)
	for i := range out {
		c := newNoisyClock(uint64(100+i), a, b)
		cfg := cfg
		cfg.Seed, cfg.clock = uint64(1+i), c.read
		out[i] = Measure(cfg, c.op())
	}
	return out
}

// The harness finds a class that costs more, and finds none when both
// classes cost the same, through noise as a loaded machine adds it. The
// clock is a seeded stand-in (noisyClock): with the real one this test
// failed about 3% of runs on a loaded 2-core machine, because the noise,
// not the statistics, decided it.
func TestMeasure(t *testing.T) {
	cfg := Config{Samples: 20_000, MaxDuration: time.Minute}
	leaky := measureNoisy(cfg, 200, 300)
	if !Consistent(leaky) {
		t.Errorf("cost 200 vs 300: %+v, want a leak in most runs", leaky)
	}
	for _, r := range leaky {
		if r.N[0]+r.N[1] != cfg.Samples || r.N[0] < cfg.Samples/3 || r.N[1] < cfg.Samples/3 {
			t.Errorf("classes measured %v times, want about half of %d each", r.N, cfg.Samples)
		}
		if r.MeanNs[1] <= r.MeanNs[0] {
			t.Errorf("mean times %v: the class costing more is not slower", r.MeanNs)
		}
	}
	even := measureNoisy(cfg, 200, 200)
	if Consistent(even) {
		t.Errorf("the same cost for both classes: %+v, want no leak", even)
	}
	for _, r := range even {
		if r.Leak() {
			t.Errorf("the same cost for both classes: |t| = %.1f at crop %.3f, want at most %v", r.T, r.Crop, Threshold)
		}
	}
}

// A difference far smaller than the stalls is lost in the uncropped test
// and found by the cropped ones: what dudect's percentile crops are for.
func TestMeasureCropsTheTail(t *testing.T) {
	for _, r := range measureNoisy(Config{Samples: 40_000, MaxDuration: time.Minute}, 200, 203) {
		if r.TRaw > Threshold {
			t.Errorf("uncropped |t| = %.1f, want the stalls to hide a 3-unit difference (at most %v)", r.TRaw, Threshold)
		}
		if !r.Leak() || r.Crop >= 1 {
			t.Errorf("|t| = %.1f at crop %.3f, want a cropped test to find the difference", r.T, r.Crop)
		}
	}
}

// On the real clock, the harness measures the number of samples asked
// for, split between the classes at random. (What it concludes on the
// real clock is proved by the authorizer's timing test, whose planted
// leak must be caught in most of several runs.)
func TestMeasureRealClock(t *testing.T) {
	cfg := Config{Samples: 5_000, MaxDuration: time.Minute, Seed: 1}
	r := Measure(cfg, work(200, 300))
	if r.N[0]+r.N[1] != cfg.Samples || r.N[0] < cfg.Samples/3 || r.N[1] < cfg.Samples/3 {
		t.Errorf("classes measured %v times, want about half of %d each", r.N, cfg.Samples)
	}
	if r.MeanNs[0] <= 0 || r.MeanNs[1] <= 0 || r.Elapsed <= 0 {
		t.Errorf("result %+v: want positive times", r)
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
