// Package dudect tests whether the time an operation takes depends on which
// of two classes of input it is given, in the manner of dudect (Reparaz,
// Balasch and Verbauwhede, "Dude, is my code constant time?", DATE 2017,
// https://eprint.iacr.org/2016/1123): the two classes are measured
// interleaved in a random order, one operation per measurement, and Welch's
// t-test compares their times, over all measurements and over those below
// each of a ladder of percentiles (cropping the long tail that interrupts
// and frequency changes add). The largest |t| of those tests is the
// result. Above Threshold it is evidence that the time depends on the
// class: a leak, when the class is something the caller must not learn.
//
// A measurement covers only Op.Run: choosing the class, readying its input
// (Op.Prepare), updating the statistics and checking the time bound happen
// outside it. Prepare should put each class's input in the same memory,
// so that the two differ in content only: inputs at different addresses
// straddle cache lines and pages differently, and that alone can make one
// class measurably slower (seen in tollgate's timing test: |t| near 10 in
// one process and under 2 in the next, for the same pair).
package dudect

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"
)

// Threshold is dudect's: |t| above it is taken as a leak.
const Threshold = 4.5

// Config bounds one measurement run. Zero values mean the defaults.
type Config struct {
	// Samples is the number of measurements, both classes together;
	// default 100,000.
	Samples int
	// MaxDuration stops the run early when it has lasted this long;
	// default one minute.
	MaxDuration time.Duration
	// Warmup measurements are taken first and thrown away; default 1,000.
	// The cropping percentiles are read from the measurements after them.
	Warmup int
	// Seed seeds the class order; 0 picks one at random.
	Seed uint64

	// clock reads the time a measurement starts and ends at; default the
	// monotonic clock. Tests plant a deterministic one, so that what they
	// prove of the statistics does not depend on the machine's load.
	clock func() time.Duration
}

// Result is one run's outcome.
type Result struct {
	// T is the largest |t| over the uncropped test and every cropped one
	// with enough measurements in both classes.
	T float64
	// Crop is the percentile of the test that gave T (1 for all
	// measurements).
	Crop float64
	// N and MeanNs are the measurements of each class in the uncropped
	// test and their mean, in nanoseconds.
	N      [2]int
	MeanNs [2]float64
	// TRaw is the |t| over all measurements, uncropped.
	TRaw float64
	// Elapsed is how long the run took, measurements and bookkeeping.
	Elapsed time.Duration
}

// Leak reports whether r's |t| is above Threshold.
func (r Result) Leak() bool { return r.T > Threshold }

// crops is the number of cropped tests, at percentiles 1 - 0.5^(10(i+1)/crops)
// as dudect spaces them: dense near the top, where the tail starts.
const crops = 32

// minPerClass is the fewest measurements of a class a test needs to count.
const minPerClass = 100

// calibration is how many measurements after the warm-up set the
// cropping thresholds.
const calibration = 1000

// Op is an operation to time on two classes of input.
type Op struct {
	// Prepare readies the input of class 0 or 1 for the next Run. It is
	// not timed.
	Prepare func(class int)
	// Run is timed.
	Run func()
}

// Measure times op, with class 0 or 1 chosen at random for each
// measurement, and returns the t-test over the times. It is long because
// warm-up, calibration and measurement share one loop's state, and the
// timed region is easier to audit in one piece.
func Measure(cfg Config, op Op) Result {
	if cfg.Samples <= 0 {
		cfg.Samples = 100_000
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = time.Minute
	}
	if cfg.Warmup <= 0 {
		cfg.Warmup = 1000
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	began := time.Now()
	clock := cfg.clock
	if clock == nil {
		clock = func() time.Duration { return time.Since(began) }
	}
	deadline := began.Add(cfg.MaxDuration)
	var bits uint64
	var nbits int
	class := func() int {
		if nbits == 0 {
			bits, nbits = rng.Uint64(), 64
		}
		c := int(bits & 1)
		bits >>= 1
		nbits--
		return c
	}
	measure := func(c int) float64 {
		op.Prepare(c)
		t0 := clock()
		op.Run()
		return float64(clock() - t0)
	}

	for range cfg.Warmup {
		measure(class())
	}
	// Thresholds from the first measurements, of both classes together.
	first := make([]float64, 0, calibration)
	var all, cropped = tTest{}, make([]tTest, crops)
	record := func(c int, x float64) { all.add(c, x) }
	for range min(calibration, cfg.Samples) {
		c := class()
		x := measure(c)
		first = append(first, x)
		record(c, x)
	}
	slices.Sort(first)
	limits := make([]float64, crops)
	for i := range limits {
		p := 1 - math.Pow(0.5, 10*float64(i+1)/crops)
		limits[i] = first[int(p*float64(len(first)-1))]
	}
	record = func(c int, x float64) {
		all.add(c, x)
		for i, lim := range limits {
			if x < lim {
				cropped[i].add(c, x)
			}
		}
	}
	for n := len(first); n < cfg.Samples; n++ {
		if n%1024 == 0 && time.Now().After(deadline) {
			break
		}
		c := class()
		record(c, measure(c))
	}

	r := Result{TRaw: all.abs(), Crop: 1, Elapsed: time.Since(began)}
	r.T = r.TRaw
	for c := range 2 {
		r.N[c], r.MeanNs[c] = int(all.acc[c].n), all.acc[c].mean
	}
	for i := range cropped {
		if t := cropped[i].abs(); t > r.T {
			r.T, r.Crop = t, 1-math.Pow(0.5, 10*float64(i+1)/crops)
		}
	}
	return r
}

// welford is a running mean and variance (Welford's method).
type welford struct {
	n, mean, m2 float64
}

func (w *welford) add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / w.n
	w.m2 += d * (x - w.mean)
}

func (w *welford) variance() float64 {
	if w.n < 2 {
		return 0
	}
	return w.m2 / (w.n - 1)
}

// tTest is Welch's two-sample t-test, kept online.
type tTest struct{ acc [2]welford }

func (t *tTest) add(class int, x float64) { t.acc[class].add(x) }

// abs returns |t|, or 0 when either class has too few measurements.
func (t *tTest) abs() float64 {
	a, b := &t.acc[0], &t.acc[1]
	if a.n < minPerClass || b.n < minPerClass {
		return 0
	}
	se := math.Sqrt(a.variance()/a.n + b.variance()/b.n)
	if se == 0 {
		if a.mean == b.mean {
			return 0
		}
		return math.Inf(1)
	}
	return math.Abs(a.mean-b.mean) / se
}

// Repeat runs Measure runs times, each time on a new operation from setup
// (and with its own class order, from Seed+i when Seed is set). Setting the
// operation up again for each run matters: where its inputs land in memory
// (how they straddle cache lines and pages) can make one class slower in
// one run and not in the next, which a leak would not.
func Repeat(cfg Config, runs int, setup func() Op) []Result {
	out := make([]Result, runs)
	for i := range out {
		c := cfg
		if c.Seed != 0 {
			c.Seed += uint64(i)
		}
		out[i] = Measure(c, setup())
	}
	return out
}

// Consistent reports whether most of the runs (more than half) leaked:
// one run above Threshold can be a burst of noise, a leak shows in most.
func Consistent(runs []Result) bool {
	n := 0
	for _, r := range runs {
		if r.Leak() {
			n++
		}
	}
	return 2*n > len(runs)
}
