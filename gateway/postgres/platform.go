package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coverbridge/coverbridge/gateway"
)

// Platform is a tenant that reports earnings, with the schemes it is subject
// to.
type Platform struct {
	ID         string
	Name       string
	Country    string
	Currency   gateway.Currency
	ActiveFrom time.Time // events before it are refused
	Schemes    []PlatformScheme
}

// PlatformScheme is a scheme a platform is subject to and the plan applied
// to its workers who have not selected one.
type PlatformScheme struct {
	SchemeID string
	PlanID   string
}

// CreatePlatform stores a new platform. A platform with the same id is a
// conflict.
func (db *DB) CreatePlatform(ctx context.Context, p Platform) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO platforms (id, name, country, currency, active_from) VALUES ($1, $2, $3, $4, $5)`,
			p.ID, p.Name, p.Country, string(p.Currency), p.ActiveFrom)
		if err != nil {
			return err
		}
		for _, s := range p.Schemes {
			if _, err := tx.Exec(ctx, `INSERT INTO platform_schemes (platform_id, scheme_id, plan_id) VALUES ($1, $2, $3)`,
				p.ID, s.SchemeID, s.PlanID); err != nil {
				return err
			}
		}
		return nil
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.ConstraintName {
		case "platforms_pkey":
			return gateway.Errorf(gateway.ECONFLICT, "platform %q exists", p.ID)
		case "platform_schemes_pkey":
			return gateway.Errorf(gateway.EINVALID, "platform %q lists a scheme twice", p.ID)
		case "platforms_id_check":
			return gateway.Invalid("id", "bad_id", "a platform id is 1 to 63 lower-case letters, digits, - or _")
		case "platforms_currency_check":
			return gateway.Invalid("currency", "bad_currency", "currency must be an ISO 4217 code")
		}
	}
	if err != nil {
		return fmt.Errorf("create platform %s: %w", p.ID, err)
	}
	return nil
}

// Platforms returns every platform with its schemes, ordered by id.
func (db *DB) Platforms(ctx context.Context) ([]Platform, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT p.id, p.name, p.country, p.currency, p.active_from,
		       coalesce(array_agg(s.scheme_id ORDER BY s.scheme_id) FILTER (WHERE s.scheme_id IS NOT NULL), '{}'),
		       coalesce(array_agg(s.plan_id ORDER BY s.scheme_id) FILTER (WHERE s.scheme_id IS NOT NULL), '{}')
		FROM platforms p LEFT JOIN platform_schemes s ON s.platform_id = p.id
		GROUP BY p.id ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("list platforms: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Platform, error) {
		var p Platform
		var cur string
		var schemes, plans []string
		err := row.Scan(&p.ID, &p.Name, &p.Country, &cur, &p.ActiveFrom, &schemes, &plans)
		p.Currency = gateway.Currency(cur)
		for i := range schemes {
			p.Schemes = append(p.Schemes, PlatformScheme{SchemeID: schemes[i], PlanID: plans[i]})
		}
		return p, err
	})
}

// Platform returns one platform with its schemes, or a not_found error.
func (db *DB) Platform(ctx context.Context, id string) (Platform, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT p.id, p.name, p.country, p.currency, p.active_from, s.scheme_id, s.plan_id
		FROM platforms p LEFT JOIN platform_schemes s ON s.platform_id = p.id
		WHERE p.id = $1 ORDER BY s.scheme_id`, id)
	if err != nil {
		return Platform{}, fmt.Errorf("read platform %s: %w", id, err)
	}
	defer rows.Close()
	var p Platform
	found := false
	for rows.Next() {
		var cur string
		var scheme, plan *string
		if err := rows.Scan(&p.ID, &p.Name, &p.Country, &cur, &p.ActiveFrom, &scheme, &plan); err != nil {
			return Platform{}, fmt.Errorf("read platform %s: %w", id, err)
		}
		found, p.Currency = true, gateway.Currency(cur)
		if scheme != nil && plan != nil {
			p.Schemes = append(p.Schemes, PlatformScheme{SchemeID: *scheme, PlanID: *plan})
		}
	}
	if err := rows.Err(); err != nil {
		return Platform{}, fmt.Errorf("read platform %s: %w", id, err)
	}
	if !found {
		return Platform{}, gateway.Errorf(gateway.ENOTFOUND, "no platform %q", id)
	}
	return p, nil
}
