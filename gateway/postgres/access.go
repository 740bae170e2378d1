package postgres

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/platforms/access"
)

// DefaultKeyPrefix is the prefix of keys issued without one.
const DefaultKeyPrefix = "cbk_live"

// Sealer seals secrets at rest; *identity.Sealer is one. A value sealed for
// a context opens only with the same context.
type Sealer interface {
	Seal(context, plain string) ([]byte, error)
	Open(context string, sealed []byte) (string, error)
}

// Access stores what decides who reaches the gateway: API keys, platforms'
// signing secrets and their access policies. It implements
// access.KeyStore.
type Access struct {
	db     *DB
	sealer Sealer
}

// NewAccess returns the access store of db. sealer seals platforms' signing
// secrets; with a nil sealer, platforms that sign requests cannot be created
// or served.
func NewAccess(db *DB, sealer Sealer) *Access {
	return &Access{db: db, sealer: sealer}
}

// APIKey is a stored API key: its hash, never its secret, and what listings
// show.
type APIKey struct {
	access.Key
	Label string
	// LastUsedAt is when the key was last used, to the minute; zero when
	// never.
	LastUsedAt time.Time
	// ReplacedBy is the id of the key that replaced this one by rotation.
	ReplacedBy string
}

// NewKey describes a key to issue.
type NewKey struct {
	Prefix     string      // default DefaultKeyPrefix
	Role       access.Role // required
	PlatformID string      // required for access.RolePlatform; empty for staff roles
	Label      string      // free text for people: who holds the key, what for
	CreatedAt  time.Time   // default time.Now()
}

// issueAttempts bounds the retries when a random key id is taken.
const issueAttempts = 4

const keyColumns = `id, prefix, coalesce(platform_id, ''), role, secret_hash, label, created_at, revoked_at, last_used_at, coalesce(replaced_by, '')`

func scanKey(row pgx.Row) (APIKey, error) {
	var k APIKey
	var role string
	var hash []byte
	var revoked, used *time.Time
	if err := row.Scan(&k.ID, &k.Prefix, &k.PlatformID, &role, &hash, &k.Label, &k.CreatedAt, &revoked, &used, &k.ReplacedBy); err != nil {
		return APIKey{}, err
	}
	k.Role = access.Role(role)
	copy(k.Hash[:], hash)
	if revoked != nil {
		k.RevokedAt = *revoked
	}
	if used != nil {
		k.LastUsedAt = *used
	}
	return k, nil
}

// Key returns the key with the public id, or an ENOTFOUND error.
func (a *Access) Key(ctx context.Context, id string) (access.Key, error) {
	k, err := a.APIKey(ctx, id)
	return k.Key, err
}

// APIKey returns the key with the public id and what listings show, or an
// ENOTFOUND error.
func (a *Access) APIKey(ctx context.Context, id string) (APIKey, error) {
	k, err := scanKey(a.db.Pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return APIKey{}, gateway.Errorf(gateway.ENOTFOUND, "no key %s", id)
	case err != nil:
		return APIKey{}, fmt.Errorf("read key %s: %w", id, err)
	}
	return k, nil
}

// KeyUsed records that the key was used at at. It writes only when the
// recorded time is a minute older or more, so frequent use costs no writes.
func (a *Access) KeyUsed(ctx context.Context, id string, at time.Time) error {
	_, err := a.db.Pool.Exec(ctx, `
		UPDATE api_keys SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')`, id, at)
	if err != nil {
		return fmt.Errorf("record use of key %s: %w", id, err)
	}
	return nil
}

// IssueKey issues a new key and returns its token, to be shown once, and
// the stored key. Errors: EINVALID for a bad role, prefix or label, or a
// platform given to a staff role or missing for a platform key; ENOTFOUND
// for an unknown platform.
func (a *Access) IssueKey(ctx context.Context, nk NewKey) (token string, k APIKey, err error) {
	if err := checkNewKey(nk); err != nil {
		return "", APIKey{}, err
	}
	err = a.db.inTx(ctx, func(tx pgx.Tx) error {
		token, k, err = issueKey(ctx, tx, nk)
		return err
	})
	if err != nil {
		return "", APIKey{}, apiKeyError(nk.PlatformID, err)
	}
	return token, k, nil
}

// checkNewKey checks what the schema would refuse, naming the field.
func checkNewKey(nk NewKey) error {
	switch {
	case !nk.Role.Valid():
		return gateway.Invalid("role", "bad_role", fmt.Sprintf("role %q is not one of platform, finance, compliance, admin", string(nk.Role)))
	case nk.Role == access.RolePlatform && nk.PlatformID == "":
		return gateway.Invalid("platform_id", "required", "a platform key needs its platform")
	case nk.Role != access.RolePlatform && nk.PlatformID != "":
		return gateway.Invalid("platform_id", "not_allowed", fmt.Sprintf("a %s key belongs to no platform", nk.Role))
	case len(nk.Label) > 200:
		return gateway.Invalid("label", "too_long", "label is longer than 200 bytes")
	}
	return nil
}

// issueKey inserts a new random key in tx, drawing another id when one is
// taken.
func issueKey(ctx context.Context, tx pgx.Tx, nk NewKey) (string, APIKey, error) {
	prefix := cmp.Or(nk.Prefix, DefaultKeyPrefix)
	created := nk.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	for range issueAttempts {
		token, key, err := access.NewKey(prefix)
		if err != nil {
			return "", APIKey{}, gateway.Invalid("prefix", "bad_prefix", err.Error())
		}
		key.Role, key.PlatformID, key.CreatedAt = nk.Role, nk.PlatformID, created.UTC()
		k := APIKey{Key: key, Label: nk.Label}
		ok, err := insertKey(ctx, tx, k)
		if err != nil {
			return "", APIKey{}, err
		}
		if ok {
			return token, k, nil
		}
	}
	return "", APIKey{}, fmt.Errorf("issue key: %d random ids in a row were taken", issueAttempts)
}

// insertKey stores k and reports false when its id is taken.
func insertKey(ctx context.Context, tx pgx.Tx, k APIKey) (bool, error) {
	tag, err := tx.Exec(ctx, `
		INSERT INTO api_keys (id, prefix, platform_id, role, secret_hash, label, created_at, revoked_at)
		VALUES ($1, $2, nullif($3, ''), $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO NOTHING`,
		k.ID, k.Prefix, k.PlatformID, string(k.Role), k.Hash[:], k.Label, k.CreatedAt, nullTime(k.RevokedAt))
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// CreateKey stores a key made elsewhere, such as a fixed development key.
// A key with the same id is a conflict; other errors are those of
// IssueKey.
func (a *Access) CreateKey(ctx context.Context, k APIKey) error {
	if err := checkNewKey(NewKey{Role: k.Role, PlatformID: k.PlatformID, Label: k.Label}); err != nil {
		return err
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now().UTC()
	}
	var ok bool
	err := a.db.inTx(ctx, func(tx pgx.Tx) (err error) {
		ok, err = insertKey(ctx, tx, k)
		return err
	})
	switch {
	case err != nil:
		return apiKeyError(k.PlatformID, err)
	case !ok:
		return gateway.Errorf(gateway.ECONFLICT, "key %s exists", k.ID)
	}
	return nil
}

// apiKeyError translates the errors of storing a key.
func apiKeyError(platformID string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.ConstraintName {
		case "api_keys_platform_fkey":
			return gateway.Errorf(gateway.ENOTFOUND, "no platform %q", platformID)
		case "api_keys_prefix_check":
			return gateway.Invalid("prefix", "bad_prefix", "a key prefix is lower-case letters and digits in words joined by underscores")
		case "api_keys_id_check":
			return gateway.Invalid("id", "bad_id", "a key id is 8 characters of a-z and 2-7")
		}
	}
	return fmt.Errorf("store key: %w", err)
}

// Keys returns the keys of a platform, revoked ones included, oldest
// first; with platformID "" the staff keys. An unknown platform is an
// ENOTFOUND error.
func (a *Access) Keys(ctx context.Context, platformID string) ([]APIKey, error) {
	if platformID != "" {
		var exists bool
		if err := a.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM platforms WHERE id = $1)`, platformID).Scan(&exists); err != nil {
			return nil, fmt.Errorf("list keys of %s: %w", platformID, err)
		}
		if !exists {
			return nil, gateway.Errorf(gateway.ENOTFOUND, "no platform %q", platformID)
		}
	}
	rows, err := a.db.Pool.Query(ctx, `
		SELECT `+keyColumns+` FROM api_keys
		WHERE platform_id IS NOT DISTINCT FROM nullif($1, '')
		ORDER BY created_at, id`, platformID)
	if err != nil {
		return nil, fmt.Errorf("list keys of %q: %w", platformID, err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIKey, error) { return scanKey(row) })
	if err != nil {
		return nil, fmt.Errorf("list keys of %q: %w", platformID, err)
	}
	return keys, nil
}

// RotateKey issues a successor to key id, with the same prefix, role,
// platform and label, and revokes the old key grace after at, so that both
// work meanwhile. It returns the new token, to be shown once, the new key
// and the old one as revoked. Errors: ENOTFOUND for an unknown key;
// ECONFLICT for a key already revoked or already rotated.
func (a *Access) RotateKey(ctx context.Context, id string, at time.Time, grace time.Duration) (token string, next, old APIKey, err error) {
	if grace < 0 {
		return "", APIKey{}, APIKey{}, gateway.Invalid("grace", "negative", "the grace period cannot be negative")
	}
	at = at.UTC()
	err = a.db.inTx(ctx, func(tx pgx.Tx) error {
		old, err = scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1 FOR UPDATE`, id))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return gateway.Errorf(gateway.ENOTFOUND, "no key %s", id)
		case err != nil:
			return err
		case old.ReplacedBy != "":
			return gateway.Errorf(gateway.ECONFLICT, "key %s was already rotated to %s: rotate that one", id, old.ReplacedBy)
		case !old.Active(at):
			return gateway.Errorf(gateway.ECONFLICT, "key %s is revoked: issue a new key instead", id)
		}
		token, next, err = issueKey(ctx, tx, NewKey{Prefix: old.Prefix, Role: old.Role, PlatformID: old.PlatformID, Label: old.Label, CreatedAt: at})
		if err != nil {
			return err
		}
		revoke := at.Add(grace)
		if !old.RevokedAt.IsZero() && old.RevokedAt.Before(revoke) {
			revoke = old.RevokedAt
		}
		old.RevokedAt, old.ReplacedBy = revoke, next.ID
		_, err = tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $2, replaced_by = $3 WHERE id = $1`, id, revoke, next.ID)
		return err
	})
	if gateway.ErrorCode(err) == gateway.EINTERNAL {
		err = fmt.Errorf("rotate key %s: %w", id, err)
	}
	if err != nil {
		return "", APIKey{}, APIKey{}, err
	}
	return token, next, old, nil
}

// RevokeKey revokes key id at at, or keeps an earlier revocation, and
// returns the key. Revoking twice is harmless. An unknown key is an
// ENOTFOUND error.
func (a *Access) RevokeKey(ctx context.Context, id string, at time.Time) (APIKey, error) {
	var k APIKey
	err := a.db.inTx(ctx, func(tx pgx.Tx) (err error) {
		k, err = scanKey(tx.QueryRow(ctx, `
			UPDATE api_keys SET revoked_at = LEAST(coalesce(revoked_at, $2), $2)
			WHERE id = $1 RETURNING `+keyColumns, id, at.UTC()))
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return APIKey{}, gateway.Errorf(gateway.ENOTFOUND, "no key %s", id)
	case err != nil:
		return APIKey{}, fmt.Errorf("revoke key %s: %w", id, err)
	}
	return k, nil
}

// AccessPolicy is how a platform's requests are checked.
type AccessPolicy struct {
	// RequireSignature: every request must carry a valid signature.
	RequireSignature bool
	// SigningSecrets are the secrets in force, newest first: a signature by
	// any of them is valid.
	SigningSecrets [][]byte
	// RateLimit is requests a second and RateBurst the most at once; 0 for
	// the gateway's default.
	RateLimit, RateBurst int64
}

// AccessPolicy returns the policy of a platform at at, or an ENOTFOUND
// error. Signing secrets are opened with the store's sealer.
func (a *Access) AccessPolicy(ctx context.Context, platformID string, at time.Time) (AccessPolicy, error) {
	var p AccessPolicy
	var sealed [][]byte
	err := a.db.Pool.QueryRow(ctx, `
		SELECT p.require_signature, coalesce(p.rate_limit, 0), coalesce(p.rate_burst, 0),
		       coalesce(array_agg(s.sealed ORDER BY s.id DESC) FILTER (WHERE s.id IS NOT NULL), '{}')
		FROM platforms p
		LEFT JOIN platform_signing_secrets s
		       ON s.platform_id = p.id AND (s.revoked_at IS NULL OR s.revoked_at > $2)
		WHERE p.id = $1
		GROUP BY p.id`, platformID, at).Scan(&p.RequireSignature, &p.RateLimit, &p.RateBurst, &sealed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return AccessPolicy{}, gateway.Errorf(gateway.ENOTFOUND, "no platform %q", platformID)
	case err != nil:
		return AccessPolicy{}, fmt.Errorf("read access policy of %s: %w", platformID, err)
	}
	if len(sealed) > 0 && a.sealer == nil {
		return AccessPolicy{}, fmt.Errorf("platform %s has signing secrets but no seal key is configured", platformID)
	}
	for _, s := range sealed {
		secret, err := a.sealer.Open(signingContext(platformID), s)
		if err != nil {
			return AccessPolicy{}, fmt.Errorf("open signing secret of %s: %w", platformID, err)
		}
		p.SigningSecrets = append(p.SigningSecrets, []byte(secret))
	}
	return p, nil
}

// signingContext binds a sealed signing secret to its platform.
func signingContext(platformID string) string { return "signing_secret:" + platformID }

// signingEncoding writes signing secrets in the key alphabet.
var signingEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newSigningSecret returns a fresh signing secret: "cbs_" and 256 random
// bits. The HMAC key is the whole string.
func newSigningSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails: see crypto/rand.Read
	return "cbs_" + signingEncoding.EncodeToString(b[:])
}

// IssueSigningSecret gives a platform a new signing secret and returns it,
// to be shown once. Secrets already in force stop working grace after at,
// so the platform can move to the new one meanwhile. Errors: ENOTFOUND for
// an unknown platform.
func (a *Access) IssueSigningSecret(ctx context.Context, platformID string, at time.Time, grace time.Duration) (string, error) {
	if a.sealer == nil {
		return "", errors.New("signing secrets need a seal key: configure --seal-key")
	}
	if grace < 0 {
		return "", gateway.Invalid("grace", "negative", "the grace period cannot be negative")
	}
	var secret string
	err := a.db.inTx(ctx, func(tx pgx.Tx) (err error) {
		secret, err = a.addSigningSecret(ctx, tx, platformID, at.UTC(), grace)
		return err
	})
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.ConstraintName == "platform_signing_secrets_platform_fkey":
		return "", gateway.Errorf(gateway.ENOTFOUND, "no platform %q", platformID)
	case err != nil:
		return "", fmt.Errorf("issue signing secret of %s: %w", platformID, err)
	}
	return secret, nil
}

// addSigningSecret retires the platform's secrets in force grace after at
// and stores a new one.
func (a *Access) addSigningSecret(ctx context.Context, tx pgx.Tx, platformID string, at time.Time, grace time.Duration) (string, error) {
	secret := newSigningSecret()
	sealed, err := a.sealer.Seal(signingContext(platformID), secret)
	if err != nil {
		return "", err
	}
	retire := at.Add(grace)
	if _, err := tx.Exec(ctx, `
		UPDATE platform_signing_secrets SET revoked_at = $2
		WHERE platform_id = $1 AND (revoked_at IS NULL OR revoked_at > $2)`, platformID, retire); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO platform_signing_secrets (platform_id, sealed, created_at) VALUES ($1, $2, $3)`,
		platformID, sealed, at); err != nil {
		return "", err
	}
	return secret, nil
}

// CreatePlatform stores a new platform, checked with Platform.Validate
// (without a catalog), and, when it signs its requests, its first signing
// secret, returned to be shown once. Errors: EINVALID naming the fields at
// fault; ECONFLICT for an existing id.
func (a *Access) CreatePlatform(ctx context.Context, p Platform, at time.Time) (signingSecret string, err error) {
	if err := p.Validate(nil); err != nil {
		return "", err
	}
	if p.RequireSignature && a.sealer == nil {
		return "", errors.New("a platform that signs its requests needs a seal key: configure --seal-key")
	}
	if p.ActiveFrom.IsZero() {
		p.ActiveFrom = at
	}
	err = a.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := insertPlatform(ctx, tx, p); err != nil {
			return err
		}
		if !p.RequireSignature {
			return nil
		}
		signingSecret, err = a.addSigningSecret(ctx, tx, p.ID, at.UTC(), 0)
		return err
	})
	if err != nil {
		return "", platformError(p, err)
	}
	return signingSecret, nil
}

// Platforms returns every platform, ordered by id.
func (a *Access) Platforms(ctx context.Context) ([]Platform, error) { return a.db.Platforms(ctx) }

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
