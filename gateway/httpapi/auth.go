package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
)

// KeyStore finds API keys and the access policies of platforms;
// *postgres.Access is one.
type KeyStore interface {
	// Key returns the key with the public id, or an ENOTFOUND error; any
	// other error is a store failure.
	Key(ctx context.Context, id string) (access.Key, error)
	// KeyUsed records that the key was used at at.
	KeyUsed(ctx context.Context, id string, at time.Time) error
	// AccessPolicy returns how a platform's requests are checked at at, or
	// an ENOTFOUND error.
	AccessPolicy(ctx context.Context, platformID string, at time.Time) (postgres.AccessPolicy, error)
}

// Default rate limit of a platform, when Config.RateLimit leaves it out.
const (
	defaultRate  = 1000 // requests a second
	defaultBurst = 2000 // requests at once
)

// keyUseInterval is how often a key's last use is recorded, at most.
const keyUseInterval = time.Minute

// publicRoutes answer without a key.
var publicRoutes = map[string]bool{
	"/healthz":      true,
	"/readyz":       true,
	"/metrics":      true,
	"/openapi.yaml": true,
}

// principalKey is where the request's principal is kept in the echo
// context.
const principalKey = "coverbridge.principal"

// accessControl is the state of the access middleware.
type accessControl struct {
	keys     KeyStore
	log      *slog.Logger
	auth     *access.Authenticator
	verifier *access.Verifier
	rate     access.LimiterConfig
	now      func() time.Time

	cache *keyCache // keys and policies remembered briefly; nil: read each time

	mu       sync.Mutex
	limiters map[limiterKey]*access.Limiter

	used sync.Map // key id → *atomic.Int64, Unix seconds of the last recorded use
}

// initAccess builds the access middleware's state from the configuration.
func (s *Server) initAccess() {
	now := s.cfg.Now
	if now == nil {
		now = time.Now
	}
	a := &accessControl{
		keys:     s.cfg.Keys,
		log:      s.log,
		verifier: access.NewVerifier(access.VerifierConfig{Window: s.cfg.SignatureWindow, Now: now}),
		now:      now,
		limiters: map[limiterKey]*access.Limiter{},
	}
	a.rate = s.cfg.RateLimit
	a.rate.Rate = cmp.Or(a.rate.Rate, defaultRate)
	a.rate.Per = cmp.Or(a.rate.Per, time.Second)
	a.rate.Burst = cmp.Or(a.rate.Burst, max(defaultBurst, a.rate.Rate))
	a.rate.Now = now
	if s.cfg.Keys != nil {
		if s.cfg.KeyCacheTTL > 0 {
			a.cache = newKeyCache(s.cfg.Keys, s.cfg.KeyCacheTTL, now)
			a.keys = a.cache
		}
		// NewAuthenticator fails only without a KeyStore.
		a.auth, _ = access.NewAuthenticator(access.AuthenticatorConfig{Keys: a.keys, Now: now})
	} else {
		s.log.Warn("httpapi: no key store configured: requests are not authenticated")
	}
	s.access = a
}

// authenticate is the access middleware of every route but the public ones:
// it turns the Authorization header into a principal, applies the
// platform's rate limit, checks the request signature when the platform
// requires one or the request carries one, and keeps the principal in the
// context. A missing, malformed, unknown, wrong or revoked key, a bad
// signature and a stale timestamp are 401; an exhausted rate limit is 429
// with Retry-After.
//
// A signed request's body is read whole, up to MaxBodyBytes, to be checked
// before any handler sees it; handlers read it again from memory.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a := s.access
		if publicRoutes[c.Path()] || a.auth == nil {
			return next(c)
		}
		req := c.Request()
		ctx := req.Context()
		token, ok := bearer(req.Header.Get(echo.HeaderAuthorization))
		if !ok {
			return s.unauthorized(c, keyError(access.CodeMalformed, "send the API key as Authorization: Bearer <key>"))
		}
		p, err := a.auth.Authenticate(ctx, token)
		if err != nil {
			return s.unauthorized(c, err)
		}
		var policy postgres.AccessPolicy
		bucket := "staff:" + p.KeyID
		if p.Role == access.RolePlatform {
			bucket = p.PlatformID
			policy, err = a.keys.AccessPolicy(ctx, p.PlatformID, a.now())
			if gateway.ErrorCode(err) == gateway.ENOTFOUND {
				// A key whose platform is gone is no key.
				return s.unauthorized(c, keyError(access.CodeInvalid, "the API key is not valid"))
			}
			if err != nil {
				return err
			}
		}
		if err := a.limit(c, bucket, policy); err != nil {
			return err
		}
		if sig := req.Header.Get(access.SignatureHeader); policy.RequireSignature || sig != "" {
			body, err := s.bufferBody(c)
			if err != nil {
				return err
			}
			if err := a.verifier.Verify(sig, body, policy.SigningSecrets...); err != nil {
				return s.unauthorized(c, err)
			}
		}
		a.recordUse(ctx, p.KeyID)
		c.Set(principalKey, p)
		return next(c)
	}
}

// forget makes this process read a key and a platform's access policy
// again at their next use: after the admin API changed them.
func (a *accessControl) forget(keyID, platformID string) {
	if a.cache != nil {
		a.cache.forget(keyID, platformID)
	}
}

// bearer returns the key of an Authorization header: what follows
// "Bearer ", the scheme in any case. An empty header gives an empty key,
// which the key parser reports as missing; ok is false for another scheme.
func bearer(h string) (token string, ok bool) {
	const scheme = "bearer "
	switch {
	case h == "":
		return "", true
	case len(h) >= len(scheme) && strings.EqualFold(h[:len(scheme)], scheme):
		return strings.TrimSpace(h[len(scheme):]), true
	default:
		return "", false
	}
}

// keyError is a 401 about the key, in the form of package access's errors.
func keyError(code, msg string) *gateway.Error {
	return &gateway.Error{Code: gateway.EUNAUTHORIZED, Message: msg,
		Details: []gateway.Detail{{Field: access.KeyField, Code: code, Message: msg}}}
}

// unauthorized answers err, adding the challenge header of 401 answers.
func (s *Server) unauthorized(c echo.Context, err error) error {
	if gateway.ErrorCode(err) == gateway.EUNAUTHORIZED {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="coverbridge"`)
	}
	return err
}

// limit takes one token from the bucket, at the platform's own rate when it
// has one.
func (a *accessControl) limit(c echo.Context, bucket string, policy postgres.AccessPolicy) error {
	cfg := a.rate
	if policy.RateLimit > 0 || policy.RateBurst > 0 {
		cfg.Rate = cmp.Or(policy.RateLimit, a.rate.Rate)
		cfg.Per = time.Second
		cfg.Burst = cmp.Or(policy.RateBurst, cfg.Rate)
		if policy.RateLimit == 0 {
			cfg.Per = a.rate.Per
		}
	}
	l, err := a.limiter(cfg)
	if err != nil {
		return err
	}
	ok, wait := l.Allow(bucket, 1)
	if ok {
		return nil
	}
	secs := max(int64((wait+time.Second-1)/time.Second), 1)
	c.Response().Header().Set(echo.HeaderRetryAfter, strconv.FormatInt(secs, 10))
	return gateway.Errorf(gateway.ERATELIMITED, "too many requests: at most %d every %s, %d at once; retry in %d s", cfg.Rate, cfg.Per, cfg.Burst, secs)
}

// limiterKey names a limiter by its rate, period and burst.
type limiterKey struct {
	rate, burst int64
	per         time.Duration
}

// limiter returns the limiter of a configuration, made on first use.
func (a *accessControl) limiter(cfg access.LimiterConfig) (*access.Limiter, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := limiterKey{cfg.Rate, cfg.Burst, cfg.Per}
	if l, ok := a.limiters[k]; ok {
		return l, nil
	}
	l, err := access.NewLimiter(cfg)
	if err != nil {
		return nil, err
	}
	a.limiters[k] = l
	return l, nil
}

// recordUse records a key's use when it was last recorded a minute ago or
// more. A failure is logged: it does not fail the request.
func (a *accessControl) recordUse(ctx context.Context, keyID string) {
	now := a.now()
	v, _ := a.used.LoadOrStore(keyID, new(atomic.Int64))
	last := v.(*atomic.Int64)
	prev := last.Load()
	if now.Unix()-prev < int64(keyUseInterval/time.Second) || !last.CompareAndSwap(prev, now.Unix()) {
		return
	}
	if err := a.keys.KeyUsed(ctx, keyID, now); err != nil {
		a.log.Warn("record key use", "key", keyID, "err", err)
	}
}

// bufferBody reads the whole request body, up to MaxBodyBytes, and puts it
// back for the handler.
func (s *Server) bufferBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, s.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, gateway.Errorf(gateway.ETOOLARGE, "a signed request body is at most %d bytes", s.cfg.MaxBodyBytes)
	case err != nil:
		return nil, gateway.Errorf(gateway.EINVALID, "read request body: %v", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// principal returns who the request acts as; ok is false when the server
// authenticates nobody (no KeyStore).
func principal(c echo.Context) (p access.Principal, ok bool) {
	p, ok = c.Get(principalKey).(access.Principal)
	return p, ok
}

// allow is the middleware of a route group that needs an action of the
// role table, such as access.ReconciliationRead for finance endpoints or
// access.KeysManage for the admin API: a principal whose role lacks one of
// them is answered 403, and so is every request when the server
// authenticates nobody.
func (s *Server) allow(actions ...access.Action) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := principal(c)
			if !ok {
				return gateway.Errorf(gateway.EFORBIDDEN, "this endpoint needs a key, and this server checks none")
			}
			for _, a := range actions {
				if !p.Can(a) {
					return gateway.Errorf(gateway.EFORBIDDEN, "a %s key cannot reach this endpoint", p.Role)
				}
			}
			return next(c)
		}
	}
}
