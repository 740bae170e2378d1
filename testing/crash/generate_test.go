package crash

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// platformSpec is one platform of the stream and the range of its gross
// amounts, in minor units of its currency.
type platformSpec struct {
	postgres.Platform
	minGross, maxGross int64
}

// platforms are the platforms of the stream, one per currency and kind of
// rule: a percentage (Malaysia s83), a fixed monthly amount withheld
// progressively (SESS plan 1) and a period-basis percentage with a threshold
// (Korea, KRW without minor units); and a second SESS platform, so that a
// worker on both has one monthly amount withheld across the two.
var platforms = []platformSpec{
	{postgres.Platform{ID: "ride-my", Name: "Ride MY", Country: "MY", Currency: "MYR",
		Schemes: []postgres.PlatformScheme{{SchemeID: "my-gig", PlanID: "s83"}}}, 300, 9000},
	{postgres.Platform{ID: "food-my", Name: "Food MY", Country: "MY", Currency: "MYR",
		Schemes: []postgres.PlatformScheme{{SchemeID: "my-sess", PlanID: "1"}}}, 300, 6000},
	{postgres.Platform{ID: "deliv-kr", Name: "Delivery KR", Country: "KR", Currency: "KRW",
		Schemes: []postgres.PlatformScheme{{SchemeID: "kr-ei", PlanID: "platform-workers"}}}, 4000, 95000},
	{postgres.Platform{ID: "shop-my", Name: "Shop MY", Country: "MY", Currency: "MYR",
		Schemes: []postgres.PlatformScheme{{SchemeID: "my-sess", PlanID: "1"}}}, 300, 6000},
}

// activeFrom is when every platform of the stream was registered.
var activeFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// messageKind says how a message of the stream came about.
type messageKind int

const (
	kindNew       messageKind = iota // a new earning
	kindReversal                     // a new reversal of an earlier earning
	kindDuplicate                    // an earlier message again, same content
	kindConflict                     // an earlier event id with other content
)

// message is one Kafka message of the stream, in production order.
type message struct {
	kind  messageKind
	key   []byte
	value []byte
	ev    gateway.Earning // what value means
}

// streamConfig shapes a generated stream.
type streamConfig struct {
	seed     uint64
	messages int // total messages
	workers  int
	months   int // consecutive months from January 2026
}

// generate returns a deterministic stream: 5% redeliveries (half of them
// spelled differently but meaning the same), 1% conflicting duplicates, 2%
// reversals of earlier earnings of the same worker, and the rest new
// earnings, month after month with times shuffled within each month.
func generate(cfg streamConfig) []message {
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))
	type worker struct {
		key       string
		platforms []int
	}
	workers := make([]worker, cfg.workers)
	for i := range workers {
		sum := sha256.Sum256(fmt.Appendf(nil, "crash-worker-%d-%d", cfg.seed, i))
		w := worker{key: hex.EncodeToString(sum[:16]), platforms: []int{i % len(platforms)}}
		if rng.IntN(5) == 0 { // one in five works for a second platform
			w.platforms = append(w.platforms, (i+1+rng.IntN(len(platforms)-1))%len(platforms))
		}
		workers[i] = w
	}

	msgs := make([]message, 0, cfg.messages)
	var firsts []int     // indexes of first occurrences (new earnings and reversals)
	var reversible []int // indexes of earnings not reversed yet
	seq := 0
	pickEarlier := func(n int) int {
		if rng.IntN(2) == 0 { // often close by, so redeliveries share a batch
			return n - 1 - rng.IntN(min(n, 300))
		}
		return rng.IntN(n)
	}
	for i := range cfg.messages {
		month := i * cfg.months / cfg.messages
		start := time.Date(2026, time.Month(1+month), 1, 0, 0, 0, 0, time.UTC)
		end := start.AddDate(0, 1, 0)
		r := rng.IntN(100)
		switch {
		case r < 5 && len(msgs) > 0:
			m := msgs[pickEarlier(len(msgs))]
			m.kind = kindDuplicate
			if rng.IntN(2) == 0 {
				m.value = respell(m.ev)
			}
			msgs = append(msgs, m)
			continue
		case r < 6 && len(firsts) > 0:
			m := msgs[firsts[pickEarlier(len(firsts))]]
			m.kind = kindConflict
			m.ev.Gross.Amount-- // still positive for an earning, negative for a reversal
			m.value = feed.Canonical(m.ev)
			msgs = append(msgs, m)
			continue
		case r < 8 && len(reversible) > 0:
			j := rng.IntN(len(reversible))
			orig := msgs[reversible[j]].ev
			reversible[j] = reversible[len(reversible)-1]
			reversible = reversible[:len(reversible)-1]
			seq++
			ev := gateway.Earning{
				EventID: fmt.Sprintf("rev-%07d", seq), PlatformID: orig.PlatformID,
				WorkerRef: orig.WorkerRef, WorkerKey: orig.WorkerKey,
				OccurredAt: orig.OccurredAt.Add(time.Duration(1+rng.IntN(48)) * time.Hour),
				Gross:      gateway.Money{Amount: -orig.Gross.Amount, Currency: orig.Gross.Currency},
				Orders:     orig.Orders, Kind: gateway.KindReversal, Reverses: orig.EventID,
			}
			firsts = append(firsts, len(msgs))
			msgs = append(msgs, message{kind: kindReversal, key: feed.PartitionKey(ev), value: feed.Canonical(ev), ev: ev})
			continue
		}
		w := workers[rng.IntN(len(workers))]
		p := platforms[w.platforms[rng.IntN(len(w.platforms))]]
		seq++
		ev := gateway.Earning{
			EventID: fmt.Sprintf("ev-%07d", seq), PlatformID: p.ID,
			WorkerRef: "ref-" + w.key[:10], WorkerKey: w.key,
			OccurredAt: start.Add(time.Duration(rng.Int64N(int64(end.Sub(start))))).Truncate(time.Second),
			Gross:      gateway.Money{Amount: p.minGross + rng.Int64N(p.maxGross-p.minGross), Currency: p.Currency},
			Orders:     1 + rng.Int64N(3), Kind: gateway.KindEarning,
		}
		if p.Currency == "MYR" && rng.IntN(4) == 0 {
			ev.Exclusions.Tips = gateway.Money{Amount: rng.Int64N(ev.Gross.Amount / 4), Currency: "MYR"}
			ev.Exclusions.Commission = gateway.Money{Amount: rng.Int64N(ev.Gross.Amount / 4), Currency: "MYR"}
		}
		if p.Currency == "KRW" && rng.IntN(3) == 0 {
			ev.Exclusions.Expenses = gateway.Money{Amount: rng.Int64N(ev.Gross.Amount / 3), Currency: "KRW"}
		}
		firsts = append(firsts, len(msgs))
		reversible = append(reversible, len(msgs))
		msgs = append(msgs, message{kind: kindNew, key: feed.PartitionKey(ev), value: feed.Canonical(ev), ev: ev})
	}
	return msgs
}

// respell writes ev as a platform might on a retry: the same event with its
// time in Seoul's offset and without the default fields. It decodes to the
// same canonical form, so it is a redelivery, not a conflict.
func respell(ev gateway.Earning) []byte {
	w := feed.FromEarning(ev)
	w.Version = 0
	w.OccurredAt = ev.OccurredAt.In(time.FixedZone("KST", 9*3600)).Format(time.RFC3339)
	if *w.Orders == 1 {
		w.Orders = nil
	}
	if w.Kind == string(gateway.KindEarning) {
		w.Kind = ""
	}
	b, err := json.Marshal(w)
	if err != nil {
		panic(err)
	}
	return b
}
