package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/coverbridge/coverbridge/gateway/kafkabus"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/feed"
)

// verifyRelay waits until the relay, killed with the engines it ran in,
// has published everything they recorded and rejected, then reads the
// deductions and dead-letter topics whole: every recorded event has its
// message, with what the ledger withheld, and no other event has one;
// every rejected message has its dead-letter message. A relay killed
// between publishing and storing its position publishes again: those
// repeats are counted, not refused.
func verifyRelay(t *testing.T, db *postgres.DB, brokers []string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var behind int
		err := db.Pool.QueryRow(ctx, `
			SELECT count(*) FROM (
			    SELECT source_partition AS p, max(source_offset) AS last, 'deductions' AS stream FROM ledger_entries GROUP BY 1
			    UNION ALL
			    SELECT source_partition, max(source_offset), 'rejections' FROM rejected_events GROUP BY 1) w
			LEFT JOIN relay_positions r ON r.stream = w.stream AND r.partition = w.p
			WHERE coalesce(r.position, -1) < w.last`).Scan(&behind)
		if err != nil {
			t.Fatal(err)
		}
		if behind == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relay has not published %d partitions' results in 2 minutes", behind)
		}
		time.Sleep(200 * time.Millisecond)
	}

	type key struct{ platform, event string }
	withheld := map[key]int64{}
	rows, err := db.Pool.Query(ctx, `SELECT platform_id, event_id, sum(worker_minor)::bigint FROM ledger_entries GROUP BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k key
		var w int64
		if err := rows.Scan(&k.platform, &k.event, &w); err != nil {
			t.Fatal(err)
		}
		withheld[k] = w
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	published := map[key]int{}
	wrong := 0
	readTopic(t, brokers, kafkabus.TopicDeductions, func(m kafka.Message) {
		var o feed.Outcome
		if err := json.Unmarshal(m.Value, &o); err != nil {
			t.Fatalf("deductions message %s: %v", m.Key, err)
		}
		k := key{o.PlatformID, o.EventID}
		published[k]++
		w, ok := withheld[k]
		if !ok || o.Withhold == nil || o.Withhold.Amount != w || string(m.Key) != o.EventID {
			if wrong++; wrong <= 5 {
				t.Errorf("deductions message %s of %s withholds %v; the ledger holds %d (recorded: %v)", m.Key, o.PlatformID, o.Withhold, w, ok)
			}
		}
	})
	repeats := 0
	for k := range withheld {
		switch n := published[k]; {
		case n == 0:
			if wrong++; wrong <= 10 {
				t.Errorf("recorded event %s/%s was never published", k.platform, k.event)
			}
		case n > 1:
			repeats += n - 1
		}
	}

	rejected := map[string]bool{}
	rrows, err := db.Pool.Query(ctx, `SELECT source_partition, source_offset FROM rejected_events`)
	if err != nil {
		t.Fatal(err)
	}
	for rrows.Next() {
		var p int
		var o int64
		if err := rrows.Scan(&p, &o); err != nil {
			t.Fatal(err)
		}
		rejected[fmt.Sprintf("%s/%d@%d", kafkabus.TopicEarnings, p, o)] = false
	}
	if err := rrows.Err(); err != nil {
		t.Fatal(err)
	}
	dead := 0
	readTopic(t, brokers, kafkabus.TopicEarningsDLQ, func(m kafka.Message) {
		dead++
		for _, h := range m.Headers {
			if h.Key == "source" {
				if _, ok := rejected[string(h.Value)]; !ok {
					t.Errorf("dead letter from %s, which is not a stored rejection", h.Value)
				}
				rejected[string(h.Value)] = true
			}
		}
	})
	missing := 0
	for src, seen := range rejected {
		if !seen {
			if missing++; missing <= 5 {
				t.Errorf("rejected message %s has no dead letter", src)
			}
		}
	}
	t.Logf("relay: %d deductions messages for %d recorded events (%d published again after a kill), %d dead letters for %d rejections",
		len(published)+repeats, len(withheld), repeats, dead, len(rejected))
}

// readTopic calls fn with every message of every partition of topic, up to
// the partition's end when it is called.
func readTopic(t *testing.T, brokers []string, topic string, fn func(kafka.Message)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for p := range partitions {
		conn, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, p)
		if err != nil {
			t.Fatal(err)
		}
		end, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxWait: 50 * time.Millisecond, MaxBytes: 4 << 20})
		for off := int64(0); off < end; {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read %s/%d at %d of %d: %v", topic, p, off, end, err)
			}
			fn(m)
			off = m.Offset + 1
		}
		r.Close()
	}
}
