package access

import (
	"math/big"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand; safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

var epoch = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

func (c *fakeClock) Now() time.Time          { return epoch.Add(time.Duration(c.ns.Load())) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newTestLimiter(t testing.TB, cfg LimiterConfig) (*Limiter, *fakeClock) {
	t.Helper()
	c := &fakeClock{}
	cfg.Now = c.Now
	l, err := NewLimiter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

// TestLimiterSteps walks one bucket through refusals, exact refills, a clock
// that goes back and requests larger than the burst.
func TestLimiterSteps(t *testing.T) {
	l, c := newTestLimiter(t, LimiterConfig{Rate: 3, Per: time.Second, Burst: 5})
	third := time.Duration(333_333_334) // ⌈1s / 3⌉
	steps := []struct {
		name     string
		advance  time.Duration
		platform string
		n        int64
		ok       bool
		retry    time.Duration
	}{
		{"a new platform has a full bucket", 0, "demo", 5, true, 0},
		{"then it is empty", 0, "demo", 1, false, third},
		{"a refused call takes nothing", 0, "demo", 1, false, third},
		{"two nanoseconds short of a token", third - 2, "demo", 1, false, 2},
		{"one nanosecond short of a token", 1, "demo", 1, false, 1},
		{"exactly one token", 1, "demo", 1, true, 0},
		{"two tokens need two thirds of a second", 0, "demo", 2, false, 666_666_666}, // 2 units left
		{"another platform has its own bucket", 0, "other", 5, true, 0},
		{"more than the burst is never allowed", 0, "demo", 6, false, 0},
		{"zero tokens are always allowed", 0, "demo", 0, true, 0},
		{"negative counts take nothing", 0, "demo", -3, true, 0},
		{"an idle bucket fills up to the burst", time.Hour, "demo", 5, true, 0},
		{"and no further", 0, "demo", 1, false, third},
		{"a clock going back adds nothing", -time.Minute, "demo", 1, false, third + time.Minute},
		{"time lost to a clock going back is not refunded", time.Minute, "demo", 1, false, third},
		{"the clock catches up", third, "demo", 1, true, 0},
	}
	for _, s := range steps {
		c.Advance(s.advance)
		ok, retry := l.Allow(s.platform, s.n)
		if ok != s.ok || retry != s.retry {
			t.Errorf("%s: Allow(%s, %d) = %v %s, want %v %s", s.name, s.platform, s.n, ok, retry, s.ok, s.retry)
		}
	}
}

// TestLimiterExactRate checks that no token is lost or invented by
// rounding: 7 tokens a second over ten minutes is exactly 4,200 tokens.
func TestLimiterExactRate(t *testing.T) {
	l, c := newTestLimiter(t, LimiterConfig{Rate: 7, Per: time.Second, Burst: 2})
	allowed := 0
	for elapsed := time.Duration(0); elapsed <= 10*time.Minute; elapsed += time.Millisecond {
		for {
			ok, _ := l.Allow("demo", 1)
			if !ok {
				break
			}
			allowed++
		}
		c.Advance(time.Millisecond)
	}
	if want := 2 + 7*600; allowed != want {
		t.Errorf("allowed %d tokens, want %d", allowed, want)
	}
}

// TestLimiterRetryAfterIsExact checks that waiting exactly retryAfter is
// enough and one nanosecond less is not, for awkward rates.
func TestLimiterRetryAfterIsExact(t *testing.T) {
	for _, cfg := range []LimiterConfig{
		{Rate: 3, Per: time.Second, Burst: 10},
		{Rate: 7, Per: time.Minute, Burst: 3},
		{Rate: 1000, Per: 3 * time.Second, Burst: 1000},
		{Rate: 1, Per: time.Hour, Burst: 1},
	} {
		l, c := newTestLimiter(t, cfg)
		for _, n := range []int64{1, cfg.Burst} {
			l.Allow("p", cfg.Burst) // empty the bucket
			ok, retry := l.Allow("p", n)
			if ok || retry <= 0 {
				t.Fatalf("%+v n=%d: Allow on an empty bucket = %v %s", cfg, n, ok, retry)
			}
			c.Advance(retry - 1)
			if ok, r := l.Allow("p", n); ok || r != 1 {
				t.Errorf("%+v n=%d: one nanosecond early: %v %s, want false 1ns", cfg, n, ok, r)
			}
			c.Advance(1)
			if ok, _ := l.Allow("p", n); !ok {
				t.Errorf("%+v n=%d: refused after waiting retryAfter", cfg, n)
			}
			c.Advance(24 * time.Hour) // refill
		}
	}
}

// TestLimiterConcurrent hammers a few buckets from many goroutines with the
// clock stopped: exactly Burst tokens are handed out per platform. Run it
// with -race.
func TestLimiterConcurrent(t *testing.T) {
	l, c := newTestLimiter(t, LimiterConfig{Rate: 100, Per: time.Second, Burst: 500})
	platforms := []string{"a", "b", "c", "d"}
	var allowed [4]atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 1000 {
				p := (g + i) % len(platforms)
				if ok, _ := l.Allow(platforms[p], 1); ok {
					allowed[p].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for i := range allowed {
		if got := allowed[i].Load(); got != 500 {
			t.Errorf("platform %s: %d allowed, want 500", platforms[i], got)
		}
	}
	// With the clock moving, every call still sees a consistent bucket.
	wg = sync.WaitGroup{}
	var total atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				if g == 0 && i%10 == 0 {
					c.Advance(10 * time.Millisecond) // one token per platform
				}
				if ok, _ := l.Allow(platforms[i%len(platforms)], 1); ok {
					total.Add(1)
				}
				_ = l.Len()
			}
		})
	}
	wg.Wait()
	if added := int64(len(platforms) * 200); total.Load() > added {
		t.Errorf("%d allowed while the clock moved by 2s, more than the %d added", total.Load(), added)
	}
}

// TestLimiterEvictsIdleBuckets checks that memory follows the platforms
// active recently, not every platform ever seen.
func TestLimiterEvictsIdleBuckets(t *testing.T) {
	l, c := newTestLimiter(t, LimiterConfig{Rate: 10, Per: time.Second, Burst: 10}) // fills in 1s
	for i := range 10_000 {
		l.Allow("p-"+strconv.Itoa(i), 1)
	}
	if n := l.Len(); n != 10_000 {
		t.Fatalf("Len() = %d, want 10000", n)
	}
	c.Advance(time.Second)
	for i := range 200 {
		l.Allow("q-"+strconv.Itoa(i), 1)
	}
	if n := l.Len(); n > 200 {
		t.Errorf("Len() = %d after every bucket filled up, want at most the 200 new ones", n)
	}

	// A stream of new platforms, each seen once: the number held stays near
	// the number seen within one fill time.
	peak := 0
	for i := range 100_000 {
		c.Advance(10 * time.Millisecond) // 100 platforms per fill time
		l.Allow("r-"+strconv.Itoa(i), 1)
		peak = max(peak, l.Len())
	}
	if peak > limiterShards*minSweep+200 {
		t.Errorf("held up to %d buckets for about 100 active platforms", peak)
	}
}

// TestLimiterMatchesModel runs random calls against a Limiter and against
// a reference bucket in exact rationals that never forgets a platform:
// answers must be the same, so eviction changes nothing.
func TestLimiterMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		cfg := LimiterConfig{
			Rate:  1 + rng.Int64N(50),
			Per:   time.Duration(1+rng.Int64N(5_000)) * time.Millisecond,
			Burst: 1 + rng.Int64N(20),
		}
		l, c := newTestLimiter(t, cfg)
		m := newModel(cfg)
		fill := time.Duration(cfg.Burst) * cfg.Per / time.Duration(cfg.Rate)
		evicted := false
		for step := range 5000 {
			d := time.Duration(rng.Int64N(int64(fill)/5 + 2))
			if rng.IntN(50) == 0 {
				d = 3 * fill // long idle: buckets fill and are evicted
			}
			c.Advance(d)
			p := "p-" + strconv.Itoa(rng.IntN(100))
			n := rng.Int64N(cfg.Burst + 2)
			ok, retry := l.Allow(p, n)
			wantOK, wantRetry := m.allow(p, n, c.Now())
			if ok != wantOK || retry != wantRetry {
				t.Fatalf("round %d step %d %+v: Allow(%s, %d) = %v %s, model %v %s", round, step, cfg, p, n, ok, retry, wantOK, wantRetry)
			}
			evicted = evicted || l.Len() < len(m.buckets)
		}
		if !evicted {
			t.Errorf("round %d: no bucket was ever evicted", round)
		}
	}
}

// model is a token bucket per platform in exact rationals.
type model struct {
	cfg     LimiterConfig
	buckets map[string]*modelBucket
}

type modelBucket struct {
	tokens *big.Rat
	last   time.Time
}

func newModel(cfg LimiterConfig) *model { return &model{cfg: cfg, buckets: map[string]*modelBucket{}} }

func (m *model) allow(p string, n int64, now time.Time) (bool, time.Duration) {
	if n <= 0 {
		return true, 0
	}
	if n > m.cfg.Burst {
		return false, 0
	}
	burst := big.NewRat(m.cfg.Burst, 1)
	b, ok := m.buckets[p]
	if !ok {
		b = &modelBucket{tokens: new(big.Rat).Set(burst), last: now}
		m.buckets[p] = b
	}
	if d := now.Sub(b.last); d > 0 {
		add := big.NewRat(int64(d)*m.cfg.Rate, int64(m.cfg.Per)) // tokens gained
		b.tokens.Add(b.tokens, add)
		if b.tokens.Cmp(burst) > 0 {
			b.tokens.Set(burst)
		}
		b.last = now
	}
	need := big.NewRat(n, 1)
	if b.tokens.Cmp(need) >= 0 {
		b.tokens.Sub(b.tokens, need)
		return true, 0
	}
	// wait = (need - tokens) × Per / Rate nanoseconds, rounded up.
	w := new(big.Rat).Sub(need, b.tokens)
	w.Mul(w, big.NewRat(int64(m.cfg.Per), m.cfg.Rate))
	q, r := new(big.Int).QuoRem(w.Num(), w.Denom(), new(big.Int))
	if r.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	return false, time.Duration(q.Int64())
}

func TestNewLimiterConfig(t *testing.T) {
	l, err := NewLimiter(LimiterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Burst() != 100 || l.rate != 100 || l.per != int64(time.Second) {
		t.Errorf("defaults: burst %d rate %d per %d", l.Burst(), l.rate, l.per)
	}
	for _, cfg := range []LimiterConfig{
		{Rate: -1},
		{Per: -time.Second},
		{Burst: -1},
		{Rate: 1, Per: time.Hour, Burst: 1 << 50}, // Burst × Per overflows
	} {
		if _, err := NewLimiter(cfg); err == nil {
			t.Errorf("NewLimiter(%+v) accepted", cfg)
		}
	}
}

func BenchmarkLimiterAllow(b *testing.B) {
	l, err := NewLimiter(LimiterConfig{Rate: 1_000_000_000, Burst: 1_000_000_000})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		l.Allow("demo", 1)
	}
}

func BenchmarkLimiterAllowParallel(b *testing.B) {
	l, err := NewLimiter(LimiterConfig{Rate: 1_000_000_000, Burst: 1_000_000_000})
	if err != nil {
		b.Fatal(err)
	}
	platforms := make([]string, 1000)
	for i := range platforms {
		platforms[i] = "platform-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(platforms))
		for pb.Next() {
			l.Allow(platforms[i%len(platforms)], 1)
			i++
		}
	})
}
