package postgres_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// TestWriteRoundTrip writes an event and entries with every field set away
// from its zero value and reads them back unchanged: the bulk writes encode
// each column's binary form by hand.
func TestWriteRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	p := claim(t, db, 4)
	seoul := time.FixedZone("KST", 9*3600)
	payload := []byte(`{"event_id":"rt-1","gross":{"currency":"KRW","value":"-12345"},"note":"ünïcode \"quoted\""}`)
	ev := postgres.IncomingEvent{
		Earning: gateway.Earning{EventID: "rt-1", PlatformID: "demo", WorkerRef: "ref-é", WorkerKey: "k3y",
			OccurredAt: time.Date(2026, 2, 28, 23, 59, 59, 123456789, seoul), Gross: gateway.Money{Amount: -12345, Currency: "KRW"},
			Kind: gateway.KindReversal, Reverses: "orig-1"},
		Payload: payload, Hash: sha256.Sum256(payload), Offset: 1<<40 + 7,
	}
	entries := []postgres.LedgerEntry{{
		PlatformID: "demo", EventID: "rt-1", WorkerID: "k3y", SchemeID: "kr-ei", PlanID: "platform-workers", PlanVersion: 3,
		Period: "2026-02", BookedPeriod: "2026-03", Kind: postgres.EntryReversal, Late: true, Reverses: "orig-1", Currency: "KRW",
		Worker: -98, Platform: -99, Gross: -12345, Base: -12000, Insured: -11000, Orders: -2, Units: -7,
		Flags: gateway.FlagReversal | gateway.FlagProvisional, Registered: false, Partition: 4, Offset: 1<<40 + 7,
	}, {
		PlatformID: "demo", EventID: "rt-1", WorkerID: "k3y", SchemeID: "my-gig", PlanID: "s83", PlanVersion: 1,
		Period: "2026-02", BookedPeriod: "2026-02", Kind: postgres.EntryReversal, Reverses: "orig-1", Currency: "MYR",
		Worker: 1, Registered: true, Partition: 4, Offset: 1<<40 + 7,
	}}
	if err := write(db, p, 1<<40+8, postgres.BatchWrites{Events: []postgres.IncomingEvent{ev}, Entries: entries}); err != nil {
		t.Fatal(err)
	}

	var (
		platform, id, ref, key, kind, currency, topic string
		at                                            time.Time
		gross, offset                                 int64
		partition                                     int
		hash                                          []byte
		sameJSON                                      bool
	)
	err := db.Pool.QueryRow(ctx, `SELECT platform_id, event_id, worker_ref, worker_key, kind, occurred_at, currency, gross_minor,
		payload::text = $1, payload_hash, source_topic, source_partition, source_offset FROM earning_events`, string(payload)).Scan(
		&platform, &id, &ref, &key, &kind, &at, &currency, &gross, &sameJSON, &hash, &topic, &partition, &offset)
	if err != nil {
		t.Fatal(err)
	}
	if platform != "demo" || id != "rt-1" || ref != "ref-é" || key != "k3y" || kind != "reversal" || currency != "KRW" ||
		gross != -12345 || !sameJSON || [32]byte(hash) != ev.Hash || topic != "earnings" || partition != 4 || offset != 1<<40+7 {
		t.Errorf("earning_events row: %q %q %q %q %q %q %d json=%v %x %q %d %d", platform, id, ref, key, kind, currency, gross,
			sameJSON, hash, topic, partition, offset)
	}
	if want := ev.Earning.OccurredAt.Truncate(time.Microsecond); !at.Equal(want) {
		t.Errorf("occurred_at = %s, want %s", at, want)
	}

	err = db.InBatch(ctx, p, 1<<40+9, func(tx *postgres.BatchTx) error {
		got, err := tx.Entries(ctx, []postgres.EventKey{{PlatformID: "demo", EventID: "orig-1"}})
		if err != nil {
			return err
		}
		if len(got) != 2 {
			t.Fatalf("entries = %+v, want 2", got)
		}
		if got[0].SchemeID != entries[0].SchemeID {
			got[0], got[1] = got[1], got[0]
		}
		for i := range entries {
			if got[i] != entries[i] {
				t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], entries[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
