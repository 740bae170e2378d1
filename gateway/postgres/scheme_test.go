package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/coverbridge/coverbridge/gateway"
)

func builtin(t *testing.T) *gateway.Catalog {
	t.Helper()
	c, err := gateway.BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStoreSchemePacksIdempotent loads the built-in packs twice and checks
// one row per pack file.
func TestStoreSchemePacksIdempotent(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	c := builtin(t)
	n := len(c.Schemes())

	res, err := db.StoreSchemePacks(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != n || res.Unchanged != 0 {
		t.Fatalf("first load = %+v, want %d stored", res, n)
	}
	first, err := db.SchemePacks(ctx, "my-sess")
	if err != nil || len(first) != 1 {
		t.Fatalf("my-sess packs = %v, %v; want one", first, err)
	}

	res, err = db.StoreSchemePacks(ctx, builtin(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 0 || res.Unchanged != n {
		t.Errorf("second load = %+v, want %d unchanged", res, n)
	}
	if got := count(t, db, "scheme_packs"); got != n {
		t.Errorf("scheme_packs rows = %d, want %d", got, n)
	}
	again, err := db.SchemePacks(ctx, "my-sess")
	if err != nil || len(again) != 1 {
		t.Fatalf("my-sess packs = %v, %v; want one", again, err)
	}
	if !again[0].LoadedAt.Equal(first[0].LoadedAt) || again[0].LastLoadedAt.Before(first[0].LastLoadedAt) {
		t.Errorf("loaded at %v → %v, last %v → %v; want the first load kept and the last one moved on",
			first[0].LoadedAt, again[0].LoadedAt, first[0].LastLoadedAt, again[0].LastLoadedAt)
	}

	sess, _ := c.Scheme("my-sess")
	p := again[0]
	sum := sha256.Sum256(p.Content)
	if p.SchemeID != "my-sess" || p.Digest != sess.Digest || hex.EncodeToString(sum[:]) != p.Digest ||
		!bytes.Equal(p.Content, sess.Raw) || p.File != sess.File || p.Name != sess.Name || p.Currency != "MYR" {
		t.Errorf("stored pack = %s %s %s %s %s, want the file as loaded", p.SchemeID, p.Digest, p.File, p.Name, p.Currency)
	}
}

// TestStoreSchemePacksVersions changes a pack file and checks that both
// versions stay on record.
func TestStoreSchemePacksVersions(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	pack := func(amount string) fstest.MapFS {
		return fstest.MapFS{"sess.json": {Data: []byte(`{
  "id": "my-sess", "name": "SESS", "country": "MY", "currency": "MYR",
  "time_zone": "Asia/Kuala_Lumpur", "source": "Act 789",
  "plans": [{"id": "1", "name": "Plan 1", "versions": [
    {"version": 1, "valid_from": "2017-06-01", "period": "month",
     "rule": {"kind": "fixed_period", "amount": "` + amount + `", "max_share_per_earning": "50%"}}]}]
}
`)}}
	}
	var digests []string
	for _, amount := range []string{"13.10", "14.00", "13.10"} {
		c, err := gateway.LoadPacks(pack(amount))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.StoreSchemePacks(ctx, c); err != nil {
			t.Fatal(err)
		}
		s, _ := c.Scheme("my-sess")
		digests = append(digests, s.Digest)
	}
	if digests[0] != digests[2] || digests[0] == digests[1] {
		t.Fatalf("digests = %v: the same file must give the same digest, another file another", digests)
	}
	got, err := db.SchemePacks(ctx, "my-sess")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("versions stored = %d, want 2", len(got))
	}
	if got[0].Digest != digests[0] || got[1].Digest != digests[1] {
		t.Errorf("versions in load order = %s, %s; want %s, %s", got[0].Digest, got[1].Digest, digests[0], digests[1])
	}
	if !bytes.Contains(got[1].Content, []byte(`"14.00"`)) {
		t.Errorf("second version content = %s", got[1].Content)
	}
}

// TestStoreSchemePacksAllOrNothing makes the last pack's insert fail and
// checks that none of the packs before it was stored.
func TestStoreSchemePacksAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	c := builtin(t)
	last := c.Schemes()[len(c.Schemes())-1].ID
	_, err := db.Pool.Exec(ctx, `
		CREATE FUNCTION refuse_pack() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.scheme_id = '`+last+`' THEN RAISE EXCEPTION 'refused'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_pack BEFORE INSERT ON scheme_packs FOR EACH ROW EXECUTE FUNCTION refuse_pack();`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.StoreSchemePacks(ctx, c); err == nil {
		t.Fatal("StoreSchemePacks succeeded, want the refusal")
	}
	if n := count(t, db, "scheme_packs"); n != 0 {
		t.Errorf("scheme_packs rows after a failed load = %d, want 0", n)
	}
}

// TestSchemePackContentMatchesDigest checks the schema refuses a row whose
// content is not the file its digest names.
func TestSchemePackContentMatchesDigest(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	_, err := db.Pool.Exec(ctx, `INSERT INTO scheme_packs (scheme_id, digest, file, name, currency, content)
		VALUES ('x', $1, 'x.json', 'X', 'MYR', '\x7b7d')`, hex.EncodeToString(make([]byte, 32)))
	if err == nil || !strings.Contains(err.Error(), "scheme_packs_content_check") {
		t.Fatalf("a row whose content does not match its digest: err = %v, want scheme_packs_content_check", err)
	}
}
