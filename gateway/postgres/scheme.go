package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coverbridge/coverbridge/gateway"
)

// StoredPack is one version of a scheme pack file as stored.
type StoredPack struct {
	SchemeID     string
	Digest       string // SHA-256 of Content, hex
	File         string // the file it was first loaded from
	Name         string
	Currency     gateway.Currency
	Content      []byte // the pack file byte for byte
	LoadedAt     time.Time
	LastLoadedAt time.Time
}

// PackLoad reports what StoreSchemePacks did.
type PackLoad struct {
	Stored    int // pack versions not seen before
	Unchanged int // pack versions already stored, marked as loaded again
}

// StoreSchemePacks stores the pack file of every scheme in c, keyed by scheme
// id and digest, in one transaction: either every pack is on record
// afterwards or none of this call's rows is. A pack stored before (same
// scheme, same digest) keeps its row and first loaded_at; only its
// last_loaded_at moves.
func (db *DB) StoreSchemePacks(ctx context.Context, c *gateway.Catalog) (PackLoad, error) {
	var res PackLoad
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		res = PackLoad{}
		for _, s := range c.Schemes() {
			tag, err := tx.Exec(ctx, `
				INSERT INTO scheme_packs (scheme_id, digest, file, name, currency, content)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT ON CONSTRAINT scheme_packs_pkey DO NOTHING`,
				s.ID, s.Digest, s.File, s.Name, string(s.Currency), s.Raw)
			if err != nil {
				return fmt.Errorf("store scheme pack %s: %w", s, err)
			}
			if tag.RowsAffected() == 1 {
				res.Stored++
				continue
			}
			if _, err := tx.Exec(ctx, `
				UPDATE scheme_packs SET last_loaded_at = greatest(last_loaded_at, now())
				WHERE scheme_id = $1 AND digest = $2`, s.ID, s.Digest); err != nil {
				return fmt.Errorf("mark scheme pack %s loaded: %w", s, err)
			}
			res.Unchanged++
		}
		return nil
	})
	if err != nil {
		return PackLoad{}, err
	}
	return res, nil
}

// SchemePacks returns every stored version of a scheme's pack, the first
// loaded first.
func (db *DB) SchemePacks(ctx context.Context, schemeID string) ([]StoredPack, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT scheme_id, digest, file, name, currency, content, loaded_at, last_loaded_at
		FROM scheme_packs WHERE scheme_id = $1 ORDER BY loaded_at, digest`, schemeID)
	if err != nil {
		return nil, fmt.Errorf("read scheme packs: %w", err)
	}
	packs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StoredPack, error) {
		var p StoredPack
		var cur string
		err := r.Scan(&p.SchemeID, &p.Digest, &p.File, &p.Name, &cur, &p.Content, &p.LoadedAt, &p.LastLoadedAt)
		p.Currency = gateway.Currency(cur)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("read scheme packs: %w", err)
	}
	return packs, nil
}
