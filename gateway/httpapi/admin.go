package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
)

// AdminStore creates platforms and manages their keys; *postgres.Access is
// one.
type AdminStore interface {
	// CreatePlatform stores a platform and returns its first signing
	// secret when it signs its requests. Errors: EINVALID, ECONFLICT.
	CreatePlatform(ctx context.Context, p postgres.Platform, at time.Time) (signingSecret string, err error)
	// Platforms returns every platform, ordered by id.
	Platforms(ctx context.Context) ([]postgres.Platform, error)
	// IssueKey issues a key and returns its token. Errors: EINVALID;
	// ENOTFOUND for an unknown platform.
	IssueKey(ctx context.Context, k postgres.NewKey) (token string, key postgres.APIKey, err error)
	// Keys lists a platform's keys, or the staff keys for "". Errors:
	// ENOTFOUND for an unknown platform.
	Keys(ctx context.Context, platformID string) ([]postgres.APIKey, error)
	// RotateKey issues a successor and revokes the key grace after at.
	// Errors: ENOTFOUND; ECONFLICT for a revoked or rotated key.
	RotateKey(ctx context.Context, id string, at time.Time, grace time.Duration) (token string, next, old postgres.APIKey, err error)
	// RevokeKey revokes a key at at. Errors: ENOTFOUND.
	RevokeKey(ctx context.Context, id string, at time.Time) (postgres.APIKey, error)
	// IssueSigningSecret gives a platform a new signing secret; the ones in
	// force stop grace after at. Errors: ENOTFOUND.
	IssueSigningSecret(ctx context.Context, platformID string, at time.Time, grace time.Duration) (string, error)
}

// Default and longest grace of a rotation.
const (
	defaultGrace = 24 * time.Hour
	maxGrace     = 30 * 24 * time.Hour
)

// adminRoutes registers the admin API under /v1/admin: admin keys only.
func (s *Server) adminRoutes(v1 *echo.Group) {
	g := v1.Group("/admin", s.allow(access.PlatformsManage, access.KeysManage))
	g.POST("/platforms", s.createPlatform)
	g.GET("/platforms", s.listPlatforms)
	g.POST("/platforms/:id/keys", s.issuePlatformKey)
	g.GET("/platforms/:id/keys", s.listPlatformKeys)
	g.POST("/platforms/:id/signing-secrets", s.issueSigningSecret)
	g.POST("/keys", s.issueStaffKey)
	g.GET("/keys", s.listStaffKeys)
	g.POST("/keys/:id/rotate", s.rotateKey)
	g.DELETE("/keys/:id", s.revokeKey)
}

// platformRequest is the body of POST /v1/admin/platforms.
type platformRequest struct {
	ID                string          `json:"id"`
	Name              string          `json:"name"`
	Country           string          `json:"country"`  // ISO 3166-1 alpha-2
	Currency          string          `json:"currency"` // ISO 4217
	Schemes           []schemeRequest `json:"schemes"`
	Sectors           []string        `json:"sectors,omitempty"`
	Vehicles          []string        `json:"vehicles,omitempty"`
	RemittanceAccount string          `json:"remittance_account,omitempty"`
	RequireSignature  bool            `json:"require_signature,omitempty"`
	RateLimit         int64           `json:"rate_limit,omitempty"` // requests a second; absent: the default
	RateBurst         int64           `json:"rate_burst,omitempty"` // most requests at once; absent: rate_limit
	// ActiveFrom is the first instant the platform may report, RFC 3339;
	// absent: now.
	ActiveFrom *time.Time `json:"active_from,omitempty"`
}

type schemeRequest struct {
	SchemeID string `json:"scheme_id"`
	PlanID   string `json:"plan_id"`
}

// platformView is a platform as the admin API shows it.
type platformView struct {
	ID                string          `json:"id"`
	Name              string          `json:"name"`
	Country           string          `json:"country"`
	Currency          string          `json:"currency"`
	Schemes           []schemeRequest `json:"schemes"`
	Sectors           []string        `json:"sectors"`
	Vehicles          []string        `json:"vehicles"`
	RemittanceAccount string          `json:"remittance_account,omitempty"`
	RequireSignature  bool            `json:"require_signature"`
	RateLimit         int64           `json:"rate_limit,omitempty"`
	RateBurst         int64           `json:"rate_burst,omitempty"`
	ActiveFrom        time.Time       `json:"active_from"`
	// SigningSecret is shown once, in the answer to the creation of a
	// platform that signs its requests.
	SigningSecret string `json:"signing_secret,omitempty"`
}

func platformViewOf(p postgres.Platform) platformView {
	v := platformView{ID: p.ID, Name: p.Name, Country: p.Country, Currency: string(p.Currency),
		Schemes: []schemeRequest{}, Sectors: orEmpty(p.Sectors), Vehicles: orEmpty(p.Vehicles),
		RemittanceAccount: p.RemittanceAccount, RequireSignature: p.RequireSignature,
		RateLimit: p.RateLimit, RateBurst: p.RateBurst, ActiveFrom: p.ActiveFrom.UTC()}
	for _, s := range p.Schemes {
		v.Schemes = append(v.Schemes, schemeRequest{SchemeID: s.SchemeID, PlanID: s.PlanID})
	}
	return v
}

// createPlatform onboards a platform. Every field at fault is named in the
// answer's details.
func (s *Server) createPlatform(c echo.Context) error {
	var req platformRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	now := s.access.now()
	p := postgres.Platform{ID: req.ID, Name: req.Name, Country: req.Country, Currency: gateway.Currency(req.Currency),
		ActiveFrom: now, Sectors: req.Sectors, Vehicles: req.Vehicles, RemittanceAccount: req.RemittanceAccount,
		RequireSignature: req.RequireSignature, RateLimit: req.RateLimit, RateBurst: req.RateBurst}
	if req.ActiveFrom != nil {
		p.ActiveFrom = *req.ActiveFrom
	}
	for _, sc := range req.Schemes {
		p.Schemes = append(p.Schemes, postgres.PlatformScheme{SchemeID: sc.SchemeID, PlanID: sc.PlanID})
	}
	if err := p.Validate(s.cfg.Schemes); err != nil {
		return err
	}
	store, err := s.admin()
	if err != nil {
		return err
	}
	secret, err := store.CreatePlatform(c.Request().Context(), p, now)
	if err != nil {
		return err
	}
	v := platformViewOf(p)
	v.SigningSecret = secret
	return c.JSON(http.StatusCreated, v)
}

type platformList struct {
	Platforms []platformView `json:"platforms"`
}

func (s *Server) listPlatforms(c echo.Context) error {
	store, err := s.admin()
	if err != nil {
		return err
	}
	ps, err := store.Platforms(c.Request().Context())
	if err != nil {
		return err
	}
	out := platformList{Platforms: []platformView{}}
	for _, p := range ps {
		out.Platforms = append(out.Platforms, platformViewOf(p))
	}
	return c.JSON(http.StatusOK, out)
}

// keyRequest is the body of a key issue: optional for a platform key.
type keyRequest struct {
	Role  string `json:"role,omitempty"` // platform keys: "platform" or absent; staff keys: finance, compliance or admin
	Label string `json:"label,omitempty"`
}

// keyView is a key as listings show it: never its secret.
type keyView struct {
	ID         string     `json:"id"`
	Prefix     string     `json:"prefix"`
	Display    string     `json:"display"` // prefix and id, the secret elided: cbk_live_k3j5xq2a_…
	Role       string     `json:"role"`
	PlatformID string     `json:"platform_id,omitempty"`
	Label      string     `json:"label,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"` // when it stops or stopped working
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ReplacedBy string     `json:"replaced_by,omitempty"`
	Active     bool       `json:"active"`
}

// issuedKey is the answer to an issue or a rotation: the only time the
// token is shown.
type issuedKey struct {
	Key   keyView `json:"key"`
	Token string  `json:"token"`
	// Previous is the rotated key, with the end of its grace.
	Previous *keyView `json:"previous,omitempty"`
}

type keyList struct {
	Keys []keyView `json:"keys"`
}

func (s *Server) keyViewOf(k postgres.APIKey) keyView {
	v := keyView{ID: k.ID, Prefix: k.Prefix, Display: k.Prefix + "_" + k.ID + "_…", Role: string(k.Role),
		PlatformID: k.PlatformID, Label: k.Label, CreatedAt: k.CreatedAt.UTC(), ReplacedBy: k.ReplacedBy,
		Active: k.Active(s.access.now())}
	if !k.RevokedAt.IsZero() {
		t := k.RevokedAt.UTC()
		v.RevokedAt = &t
	}
	if !k.LastUsedAt.IsZero() {
		t := k.LastUsedAt.UTC()
		v.LastUsedAt = &t
	}
	return v
}

// bindOptionalJSON binds a body that may be left out.
func (s *Server) bindOptionalJSON(c echo.Context, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return s.bindJSON(c, v)
}

func (s *Server) issuePlatformKey(c echo.Context) error {
	var req keyRequest
	if err := s.bindOptionalJSON(c, &req); err != nil {
		return err
	}
	if req.Role != "" && req.Role != string(access.RolePlatform) {
		return gateway.Invalid("role", "bad_role", "a platform's keys have role platform; issue staff keys with POST /v1/admin/keys")
	}
	return s.issueKey(c, postgres.NewKey{Role: access.RolePlatform, PlatformID: c.Param("id"), Label: req.Label})
}

func (s *Server) issueStaffKey(c echo.Context) error {
	var req keyRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	switch access.Role(req.Role) {
	case access.RoleFinance, access.RoleCompliance, access.RoleAdmin:
	case "":
		return gateway.Invalid("role", "required", "role is required: finance, compliance or admin")
	default:
		return gateway.Invalid("role", "bad_role", "a staff key's role is finance, compliance or admin; issue platform keys with POST /v1/admin/platforms/{id}/keys")
	}
	return s.issueKey(c, postgres.NewKey{Role: access.Role(req.Role), Label: req.Label})
}

func (s *Server) issueKey(c echo.Context, nk postgres.NewKey) error {
	store, err := s.admin()
	if err != nil {
		return err
	}
	nk.Prefix, nk.CreatedAt = s.cfg.KeyPrefix, s.access.now()
	token, k, err := store.IssueKey(c.Request().Context(), nk)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, issuedKey{Key: s.keyViewOf(k), Token: token})
}

func (s *Server) listPlatformKeys(c echo.Context) error { return s.listKeys(c, c.Param("id")) }

func (s *Server) listStaffKeys(c echo.Context) error { return s.listKeys(c, "") }

func (s *Server) listKeys(c echo.Context, platformID string) error {
	store, err := s.admin()
	if err != nil {
		return err
	}
	keys, err := store.Keys(c.Request().Context(), platformID)
	if err != nil {
		return err
	}
	out := keyList{Keys: []keyView{}}
	for _, k := range keys {
		out.Keys = append(out.Keys, s.keyViewOf(k))
	}
	return c.JSON(http.StatusOK, out)
}

// graceRequest is the optional body of a rotation.
type graceRequest struct {
	// Grace is how long the old key or secret keeps working, as a Go
	// duration ("24h", "90m", "0s"); absent: 24h.
	Grace string `json:"grace,omitempty"`
}

func (s *Server) bindGrace(c echo.Context) (time.Duration, error) {
	var req graceRequest
	if err := s.bindOptionalJSON(c, &req); err != nil {
		return 0, err
	}
	if req.Grace == "" {
		return defaultGrace, nil
	}
	d, err := time.ParseDuration(req.Grace)
	if err != nil || d < 0 || d > maxGrace {
		return 0, gateway.Invalid("grace", "bad_duration", "grace is a duration from 0s to 720h, such as 24h")
	}
	return d, nil
}

func (s *Server) rotateKey(c echo.Context) error {
	grace, err := s.bindGrace(c)
	if err != nil {
		return err
	}
	store, err := s.admin()
	if err != nil {
		return err
	}
	token, next, old, err := store.RotateKey(c.Request().Context(), c.Param("id"), s.access.now(), grace)
	if err != nil {
		return err
	}
	s.access.forget(old.ID, "")
	prev := s.keyViewOf(old)
	return c.JSON(http.StatusCreated, issuedKey{Key: s.keyViewOf(next), Token: token, Previous: &prev})
}

func (s *Server) revokeKey(c echo.Context) error {
	store, err := s.admin()
	if err != nil {
		return err
	}
	k, err := store.RevokeKey(c.Request().Context(), c.Param("id"), s.access.now())
	if err != nil {
		return err
	}
	s.access.forget(k.ID, "")
	return c.JSON(http.StatusOK, s.keyViewOf(k))
}

// signingSecretAnswer shows a new signing secret, once.
type signingSecretAnswer struct {
	PlatformID    string `json:"platform_id"`
	SigningSecret string `json:"signing_secret"`
	// PreviousUntil is when the secrets in force before stop working.
	PreviousUntil time.Time `json:"previous_until"`
}

func (s *Server) issueSigningSecret(c echo.Context) error {
	grace, err := s.bindGrace(c)
	if err != nil {
		return err
	}
	store, err := s.admin()
	if err != nil {
		return err
	}
	now := s.access.now()
	secret, err := store.IssueSigningSecret(c.Request().Context(), c.Param("id"), now, grace)
	if err != nil {
		return err
	}
	s.access.forget("", c.Param("id"))
	return c.JSON(http.StatusCreated, signingSecretAnswer{PlatformID: c.Param("id"), SigningSecret: secret, PreviousUntil: now.Add(grace).UTC()})
}

// admin returns the admin store, or an internal error when none is
// configured.
func (s *Server) admin() (AdminStore, error) {
	if s.cfg.Admin == nil {
		return nil, gateway.Errorf(gateway.EINTERNAL, "the admin API is not configured on this server")
	}
	return s.cfg.Admin, nil
}

// orEmpty returns s, or an empty list for nil, so JSON shows [] and not null.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
