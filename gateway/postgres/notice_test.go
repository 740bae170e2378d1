package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
)

// TestNoticeDelivery lists the shortfall notice October's close issued
// for g-2 and acknowledges its delivery once: the same acknowledgement
// again answers the first, another is a conflict, and the acknowledgement
// is never edited.
func TestNoticeDelivery(t *testing.T) {
	w := newCoverWorld(t)
	ctx := context.Background()
	db := w.db
	list := func(f postgres.NoticeFilter) []postgres.WorkerNotice {
		t.Helper()
		ns, err := db.WorkerNotices(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	ns := list(postgres.NoticeFilter{PlatformID: "grab", SchemeID: "my-sess", Kind: "shortfall"})
	if len(ns) != 1 {
		t.Fatalf("notices = %+v, want g-2's shortfall", ns)
	}
	n := ns[0]
	if n.WorkerRef != "g-2" || n.WorkerKey != w.keys["g-2"] || n.Period != "2026-10" || n.Amount.Amount != 1440 ||
		n.Expected.Amount != 1940 || n.Withheld.Amount != 500 || n.Amount.Currency != "MYR" || n.Delivery != nil {
		t.Errorf("notice = %+v", n)
	}
	if got := list(postgres.NoticeFilter{PlatformID: "foodpanda"}); len(got) != 0 {
		t.Errorf("foodpanda's notices = %+v", got)
	}

	at := time.Date(2026, 11, 6, 9, 30, 0, 0, time.UTC)
	d := postgres.NoticeDelivery{Channel: "sms", DeliveredAt: at, RecordedBy: "key1", RecordedAt: at.Add(time.Hour)}
	bad := d
	bad.Channel = "pigeon"
	if _, _, err := db.DeliverNotice(ctx, "grab", n.ID, bad); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("unknown channel: %v", err)
	}
	early := d
	early.DeliveredAt = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := db.DeliverNotice(ctx, "grab", n.ID, early); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("delivered before the notice: %v", err)
	}
	first, created, err := db.DeliverNotice(ctx, "grab", n.ID, d)
	if err != nil || !created || first.Delivery == nil || first.Delivery.Channel != "sms" || !first.Delivery.DeliveredAt.Equal(at) {
		t.Fatalf("deliver = %+v, %v, %v", first, created, err)
	}
	again := d
	again.RecordedBy, again.RecordedAt = "key2", at.Add(2*time.Hour)
	second, created, err := db.DeliverNotice(ctx, "grab", n.ID, again)
	if err != nil || created || second.Delivery.RecordedBy != "key1" || !second.Delivery.RecordedAt.Equal(first.Delivery.RecordedAt) {
		t.Errorf("the same acknowledgement again = %+v, %v, %v; want the first", second.Delivery, created, err)
	}
	other := d
	other.Channel = "email"
	if _, _, err := db.DeliverNotice(ctx, "grab", n.ID, other); gateway.ErrorCode(err) != gateway.ECONFLICT {
		t.Errorf("another acknowledgement: %v, want conflict", err)
	}
	if _, _, err := db.DeliverNotice(ctx, "foodpanda", n.ID, d); gateway.ErrorCode(err) != gateway.ENOTFOUND {
		t.Errorf("another platform's notice: %v, want not_found", err)
	}

	all := list(postgres.NoticeFilter{})
	yes, no := true, false
	if got := list(postgres.NoticeFilter{Delivered: &yes}); len(got) != 1 || got[0].ID != n.ID {
		t.Errorf("delivered = %+v", got)
	}
	if got := list(postgres.NoticeFilter{Delivered: &no}); len(got) != len(all)-1 {
		t.Errorf("not delivered = %d of %d", len(got), len(all))
	}
	if got := list(postgres.NoticeFilter{After: n.ID, Limit: 1}); len(got) > 1 || (len(got) == 1 && got[0].ID <= n.ID) {
		t.Errorf("page after %d = %+v", n.ID, got)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE notice_deliveries SET channel = 'post'`); err == nil {
		t.Error("a delivery acknowledgement was edited")
	}
}
