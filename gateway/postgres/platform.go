package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
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

	// Categories of work the platform reports, as events name them in
	// category.sector and category.vehicle: "ride_hailing", "4w".
	Sectors  []string
	Vehicles []string
	// RemittanceAccount is the bank account the platform pays contributions
	// from, as its bank writes it; "" when not known yet.
	RemittanceAccount string
	// RequireSignature makes every request of the platform carry a valid
	// Coverbridge-Signature header.
	RequireSignature bool
	// RateLimit is the platform's requests a second and RateBurst the most
	// at once; 0 means the gateway's default.
	RateLimit, RateBurst int64
}

// PlatformScheme is a scheme a platform is subject to and the plan applied
// to its workers who have not selected one.
type PlatformScheme struct {
	SchemeID string
	PlanID   string
}

// Platform field limits, also enforced by the schema.
var (
	platformIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	categoryPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	countryPattern    = regexp.MustCompile(`^[A-Z]{2}$`)
)

const (
	maxPlatformName      = 200
	maxRemittanceAccount = 100
	maxRateLimit         = 1_000_000
)

// Validate checks a new platform and returns an EINVALID error with one
// detail per field at fault, or nil. With a catalog it also checks that
// every scheme and plan exists there.
func (p Platform) Validate(catalog *gateway.Catalog) error {
	var details []gateway.Detail
	bad := func(field, code, msg string) {
		details = append(details, gateway.Detail{Field: field, Code: code, Message: msg})
	}
	switch {
	case p.ID == "":
		bad("id", "required", "id is required")
	case !platformIDPattern.MatchString(p.ID):
		bad("id", "bad_id", "a platform id is 1 to 63 lower-case letters, digits, - or _, starting with a letter or digit")
	}
	switch {
	case p.Name == "":
		bad("name", "required", "name is required")
	case len(p.Name) > maxPlatformName:
		bad("name", "too_long", fmt.Sprintf("name is longer than %d bytes", maxPlatformName))
	}
	switch {
	case p.Country == "":
		bad("country", "required", "country is required")
	case !countryPattern.MatchString(p.Country):
		bad("country", "bad_country", "country must be an ISO 3166-1 alpha-2 code such as MY")
	}
	switch {
	case p.Currency == "":
		bad("currency", "required", "currency is required")
	case !p.Currency.Valid():
		bad("currency", "unknown_currency", fmt.Sprintf("unknown ISO 4217 currency code %q", string(p.Currency)))
	}
	if len(p.Schemes) == 0 {
		bad("schemes", "required", "a platform is subject to at least one scheme")
	}
	seen := map[string]bool{}
	for i, s := range p.Schemes {
		field := fmt.Sprintf("schemes[%d]", i)
		switch {
		case s.SchemeID == "":
			bad(field+".scheme_id", "required", "scheme_id is required")
			continue
		case s.PlanID == "":
			bad(field+".plan_id", "required", "plan_id is required")
			continue
		case seen[s.SchemeID]:
			bad(field+".scheme_id", "duplicate", fmt.Sprintf("scheme %s is listed twice", s.SchemeID))
			continue
		}
		seen[s.SchemeID] = true
		if catalog == nil {
			continue
		}
		scheme, err := catalog.Scheme(s.SchemeID)
		if err != nil {
			bad(field+".scheme_id", "unknown_scheme", fmt.Sprintf("no scheme %q is loaded", s.SchemeID))
			continue
		}
		if _, err := scheme.Plan(s.PlanID); err != nil {
			bad(field+".plan_id", "unknown_plan", fmt.Sprintf("scheme %s has no plan %q", s.SchemeID, s.PlanID))
		}
	}
	for _, c := range []struct {
		field  string
		values []string
	}{{"sectors", p.Sectors}, {"vehicles", p.Vehicles}} {
		for i, v := range c.values {
			if !categoryPattern.MatchString(v) {
				bad(fmt.Sprintf("%s[%d]", c.field, i), "bad_category", "a category is 1 to 63 lower-case letters, digits, - or _, such as ride_hailing or 4w")
			}
		}
	}
	if len(p.RemittanceAccount) > maxRemittanceAccount {
		bad("remittance_account", "too_long", fmt.Sprintf("remittance_account is longer than %d bytes", maxRemittanceAccount))
	}
	if p.RateLimit < 0 || p.RateLimit > maxRateLimit {
		bad("rate_limit", "out_of_range", fmt.Sprintf("rate_limit is requests a second, from 1 to %d; 0 or absent for the default", maxRateLimit))
	}
	if p.RateBurst < 0 || p.RateBurst > maxRateLimit {
		bad("rate_burst", "out_of_range", fmt.Sprintf("rate_burst is the most requests at once, from 1 to %d; 0 or absent for the default", maxRateLimit))
	}
	if len(details) > 0 {
		return &gateway.Error{Code: gateway.EINVALID, Message: "invalid platform", Details: details}
	}
	return nil
}

// CreatePlatform stores a new platform. A platform with the same id is a
// conflict.
func (db *DB) CreatePlatform(ctx context.Context, p Platform) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error { return insertPlatform(ctx, tx, p) })
	return platformError(p, err)
}

// insertPlatform writes a platform and its schemes in tx.
func insertPlatform(ctx context.Context, tx pgx.Tx, p Platform) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO platforms (id, name, country, currency, active_from, sectors, vehicles,
		                       remittance_account, require_signature, rate_limit, rate_burst)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10, 0), nullif($11, 0))`,
		p.ID, p.Name, p.Country, string(p.Currency), p.ActiveFrom, nonNil(p.Sectors), nonNil(p.Vehicles),
		p.RemittanceAccount, p.RequireSignature, p.RateLimit, p.RateBurst)
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
}

// platformError translates the errors of inserting p.
func platformError(p Platform, err error) error {
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
		case "platforms_sectors_check":
			return gateway.Invalid("sectors", "bad_category", "a category is 1 to 63 lower-case letters, digits, - or _")
		case "platforms_vehicles_check":
			return gateway.Invalid("vehicles", "bad_category", "a category is 1 to 63 lower-case letters, digits, - or _")
		case "platforms_remittance_account_check":
			return gateway.Invalid("remittance_account", "too_long", fmt.Sprintf("remittance_account is longer than %d characters", maxRemittanceAccount))
		case "platforms_rate_limit_check":
			return gateway.Invalid("rate_limit", "out_of_range", "rate_limit must be positive")
		case "platforms_rate_burst_check":
			return gateway.Invalid("rate_burst", "out_of_range", "rate_burst must be positive")
		}
	}
	if err != nil {
		return fmt.Errorf("create platform %s: %w", p.ID, err)
	}
	return nil
}

// nonNil returns s, or an empty slice for nil, which pgx would write as NULL.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Platforms returns every platform with its schemes, ordered by id.
func (db *DB) Platforms(ctx context.Context) ([]Platform, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT p.id, p.name, p.country, p.currency, p.active_from,
		       coalesce(array_agg(s.scheme_id ORDER BY s.scheme_id) FILTER (WHERE s.scheme_id IS NOT NULL), '{}'),
		       coalesce(array_agg(s.plan_id ORDER BY s.scheme_id) FILTER (WHERE s.scheme_id IS NOT NULL), '{}'),
		       p.sectors, p.vehicles, p.remittance_account, p.require_signature,
		       coalesce(p.rate_limit, 0), coalesce(p.rate_burst, 0)
		FROM platforms p LEFT JOIN platform_schemes s ON s.platform_id = p.id
		GROUP BY p.id ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("list platforms: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Platform, error) {
		var p Platform
		var cur string
		var schemes, plans []string
		err := row.Scan(&p.ID, &p.Name, &p.Country, &cur, &p.ActiveFrom, &schemes, &plans,
			&p.Sectors, &p.Vehicles, &p.RemittanceAccount, &p.RequireSignature, &p.RateLimit, &p.RateBurst)
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
