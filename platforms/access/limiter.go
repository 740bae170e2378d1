package access

import (
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// LimiterConfig configures a Limiter: each platform may take Rate tokens per
// Per on average, and up to Burst at once.
type LimiterConfig struct {
	// Rate is the number of tokens added to a bucket every Per. Default 100.
	Rate int64
	// Per is the period of Rate. Default one second.
	Per time.Duration
	// Burst is the capacity of a bucket: the most tokens one call can take
	// and what an idle platform has in hand. Default Rate.
	Burst int64
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// limiterShards spreads platforms over locks so that concurrent calls for
// different platforms rarely wait for each other.
const limiterShards = 16

// minSweep is the smallest shard size at which a sweep is triggered by size.
const minSweep = 64

// Limiter is a token bucket per platform. Token counts are exact: a bucket
// holds tokens×Per in nanosecond units and gains Rate units a nanosecond,
// so no rate is rounded. It is safe for concurrent use.
//
// Memory is bounded by the platforms seen recently: a bucket that has been
// idle long enough to be full again behaves exactly like a new one, so such
// buckets are dropped, by a sweep of a shard when it has doubled in size or
// when a bucket's fill time has passed since its last sweep.
type Limiter struct {
	rate     int64         // units per nanosecond
	per      int64         // units per token (Per in nanoseconds)
	capacity int64         // Burst × per
	burst    int64         // tokens
	fill     time.Duration // time for an empty bucket to fill
	now      func() time.Time
	seed     maphash.Seed
	shards   [limiterShards]limiterShard
}

type limiterShard struct {
	mu        sync.Mutex
	buckets   map[string]*bucket
	sweepAt   int       // sweep when the map reaches this size
	lastSweep time.Time // when the shard was last swept
}

type bucket struct {
	level int64     // tokens × per
	last  time.Time // when level was computed
}

// NewLimiter returns a Limiter, or an error when the configuration is
// negative or Burst × Per does not fit in 63 bits.
func NewLimiter(cfg LimiterConfig) (*Limiter, error) {
	cfg.Rate = cmp.Or(cfg.Rate, 100)
	cfg.Per = cmp.Or(cfg.Per, time.Second)
	cfg.Burst = cmp.Or(cfg.Burst, cfg.Rate)
	switch {
	case cfg.Rate < 0 || cfg.Per < 0 || cfg.Burst < 0:
		return nil, errors.New("access: limiter rate, period and burst must be positive")
	case cfg.Burst > math.MaxInt64/int64(cfg.Per):
		return nil, fmt.Errorf("access: limiter burst %d × period %s is too large", cfg.Burst, cfg.Per)
	}
	l := &Limiter{
		rate:     cfg.Rate,
		per:      int64(cfg.Per),
		burst:    cfg.Burst,
		capacity: cfg.Burst * int64(cfg.Per),
		now:      cfg.Now,
		seed:     maphash.MakeSeed(),
	}
	l.fill = time.Duration(ceilDiv(l.capacity, l.rate))
	if l.now == nil {
		l.now = time.Now
	}
	for i := range l.shards {
		l.shards[i].buckets = make(map[string]*bucket)
		l.shards[i].sweepAt = minSweep
	}
	return l, nil
}

// Burst returns the most tokens one call can take.
func (l *Limiter) Burst() int64 { return l.burst }

// Allow takes n tokens from the platform's bucket if it holds them. When it
// does not, nothing is taken and retryAfter is how long until it will,
// if no other call takes tokens meanwhile: the value for Retry-After. n
// above Burst can never be allowed: ok is false and retryAfter 0, and the
// caller should answer without a Retry-After (split the request). n of zero
// or less takes nothing and is allowed.
func (l *Limiter) Allow(platformID string, n int64) (ok bool, retryAfter time.Duration) {
	if n <= 0 {
		return true, 0
	}
	if n > l.burst {
		return false, 0
	}
	need := n * l.per
	s := &l.shards[maphash.String(l.seed, platformID)%limiterShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	now := l.now()
	l.maybeSweep(s, now)
	b, found := s.buckets[platformID]
	if !found {
		b = &bucket{level: l.capacity, last: now}
		s.buckets[platformID] = b
	}
	l.refill(b, now)
	if b.level >= need {
		b.level -= need
		return true, 0
	}
	wait := time.Duration(ceilDiv(need-b.level, l.rate))
	if ahead := b.last.Sub(now); ahead > 0 {
		// The clock went back: the bucket fills from its own last time.
		wait += ahead
	}
	return false, wait
}

// refill brings b up to now. A clock that goes back adds nothing.
func (l *Limiter) refill(b *bucket, now time.Time) {
	d := int64(now.Sub(b.last))
	if d <= 0 {
		return
	}
	b.last = now
	room := l.capacity - b.level
	if d >= ceilDiv(room, l.rate) {
		b.level = l.capacity
		return
	}
	b.level += d * l.rate // d × rate < room: no overflow
}

// maybeSweep drops the shard's full buckets when the shard has grown to its
// sweep size or a fill time has passed since the last sweep.
func (l *Limiter) maybeSweep(s *limiterShard, now time.Time) {
	if len(s.buckets) < s.sweepAt && now.Sub(s.lastSweep) < l.fill {
		return
	}
	for id, b := range s.buckets {
		l.refill(b, now)
		if b.level == l.capacity {
			delete(s.buckets, id)
		}
	}
	s.lastSweep = now
	s.sweepAt = max(2*len(s.buckets), minSweep)
}

// Len returns the number of buckets held: platforms that took tokens
// recently enough that their bucket is not yet full again.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}

// ceilDiv returns ⌈a/b⌉ for a ≥ 0 and b > 0.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 {
		q++
	}
	return q
}
