package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

// Key format.
const (
	// IDLen is the length of a key's public id.
	IDLen = 8
	// SecretLen is the length of a key's secret: 32 random bytes in
	// base32 without padding.
	SecretLen = 52
	// MaxPrefixLen bounds a key prefix.
	MaxPrefixLen = 32
)

// keyEncoding is lower-case RFC 4648 base32: letters and the digits 2 to 7,
// no underscore, so the parts of a token split unambiguously.
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Key is an API key as the gateway stores it: never the secret, only its
// hash.
type Key struct {
	ID         string   // public id, IDLen characters of [a-z2-7]; unique
	Prefix     string   // environment prefix, such as "cbk_live"
	Hash       [32]byte // SHA-256 of the secret as written in the token
	Role       Role
	PlatformID string    // the key's platform for RolePlatform, "" otherwise
	CreatedAt  time.Time // when it was issued
	// RevokedAt is when the key stops working; zero while it is in force.
	// A time in the future lets a rotated key overlap its successor.
	RevokedAt time.Time
}

// Active reports whether the key works at now.
func (k Key) Active(now time.Time) bool {
	return k.RevokedAt.IsZero() || now.Before(k.RevokedAt)
}

// Principal returns who a request made with the key acts as.
func (k Key) Principal() Principal {
	return Principal{KeyID: k.ID, PlatformID: k.PlatformID, Role: k.Role}
}

// Verify reports whether t is this key's token: same prefix and id, and a
// secret with this key's hash, compared in constant time.
func (k Key) Verify(t Token) bool {
	var buf [SecretLen]byte
	sum := sha256.Sum256(buf[:copy(buf[:], t.secret)])
	ok := subtle.ConstantTimeCompare(sum[:], k.Hash[:])
	ok &= subtle.ConstantTimeCompare([]byte(t.ID), []byte(k.ID))
	ok &= subtle.ConstantTimeCompare([]byte(t.Prefix), []byte(k.Prefix))
	return ok == 1 && t.secret != ""
}

// NewKey issues a key with the given prefix. It returns the token, to be
// shown to the user once and never stored, and the Key to store; the caller
// fills in Role, PlatformID and CreatedAt. The id is random: a store that
// finds it taken should issue another key.
func NewKey(prefix string) (token string, key Key, err error) {
	if err := checkPrefix(prefix); err != nil {
		return "", Key{}, err
	}
	var id [5]byte // 40 bits: 8 base32 characters
	var secret [32]byte
	// crypto/rand.Read never fails: it crashes the program if the system
	// cannot provide randomness.
	_, _ = rand.Read(id[:])
	_, _ = rand.Read(secret[:])
	key = Key{ID: keyEncoding.EncodeToString(id[:]), Prefix: prefix}
	s := keyEncoding.EncodeToString(secret[:])
	key.Hash = sha256.Sum256([]byte(s))
	return prefix + "_" + key.ID + "_" + s, key, nil
}

// checkPrefix accepts lower-case letters and digits in words joined by
// single underscores, starting with a letter: "cbk_live", "cbk_test".
func checkPrefix(p string) error {
	if p == "" || len(p) > MaxPrefixLen || p[0] < 'a' || p[0] > 'z' || p[len(p)-1] == '_' || strings.Contains(p, "__") {
		return fmt.Errorf("access: key prefix %q must be lower-case letters and digits in words joined by underscores, at most %d characters", p, MaxPrefixLen)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("access: key prefix %q must be lower-case letters and digits in words joined by underscores, at most %d characters", p, MaxPrefixLen)
		}
	}
	return nil
}

// Token is a parsed API key as presented by a caller. Its secret is never
// printed: String and GoString hide it.
type Token struct {
	Prefix string
	ID     string
	secret string
}

// String returns the token with its secret hidden.
func (t Token) String() string { return t.Prefix + "_" + t.ID + "_…" }

// GoString returns the token with its secret hidden, for %#v.
func (t Token) GoString() string { return "access.Token(" + t.String() + ")" }

// Detail codes of authentication errors (code gateway.EUNAUTHORIZED).
const (
	CodeMissing   = "missing"   // no key or no signature
	CodeMalformed = "malformed" // not in the documented format
	CodeInvalid   = "invalid"   // no such key, or the wrong secret
	CodeRevoked   = "revoked"   // a key that has been revoked
	CodeStale     = "stale"     // a signature outside the replay window
	CodeMismatch  = "mismatch"  // a signature that does not match the body
)

// KeyField is the Detail field of key errors.
const KeyField = "Authorization"

// ParseKey splits a token into its prefix, id and secret, checking the
// format only. Errors are *gateway.Error with code EUNAUTHORIZED; their
// messages never contain the token.
func ParseKey(token string) (Token, error) {
	if token == "" {
		return Token{}, unauthorized(KeyField, CodeMissing, "an API key is required: send Authorization: Bearer <key>")
	}
	rest, secret, ok := cutLast(token)
	if !ok {
		return Token{}, malformedKey()
	}
	prefix, id, ok := cutLast(rest)
	if !ok || len(id) != IDLen || len(secret) != SecretLen || !isKeyText(id) || !isKeyText(secret) || checkPrefix(prefix) != nil {
		return Token{}, malformedKey()
	}
	return Token{Prefix: prefix, ID: id, secret: secret}, nil
}

// cutLast splits s around its last underscore.
func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, '_')
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func malformedKey() error {
	return unauthorized(KeyField, CodeMalformed, "the API key is not in the form <prefix>_<id>_<secret>")
}

// isKeyText reports whether s is in the key alphabet [a-z2-7].
func isKeyText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// KeyStore finds stored keys.
type KeyStore interface {
	// Key returns the key with the public id, or a *gateway.Error with code
	// ENOTFOUND when there is none. Any other error is a store failure.
	Key(ctx context.Context, id string) (Key, error)
}

// AuthenticatorConfig configures an Authenticator.
type AuthenticatorConfig struct {
	// Keys finds keys by id. Required.
	Keys KeyStore
	// Now is the clock for revocation. Default time.Now.
	Now func() time.Time
}

// Authenticator turns the API key of a request into a Principal. It is safe
// for concurrent use if the KeyStore is.
type Authenticator struct {
	keys KeyStore
	now  func() time.Time
}

// NewAuthenticator returns an Authenticator, or an error when cfg.Keys is
// nil.
func NewAuthenticator(cfg AuthenticatorConfig) (*Authenticator, error) {
	if cfg.Keys == nil {
		return nil, errors.New("access: AuthenticatorConfig.Keys is required")
	}
	a := &Authenticator{keys: cfg.Keys, now: cfg.Now}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// Authenticate returns the principal of token. A missing, malformed,
// unknown, wrong or revoked key is a *gateway.Error with code EUNAUTHORIZED
// (details: missing, malformed, invalid, revoked); an unknown id and a wrong
// secret get the same answer. A store failure is returned wrapped.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (Principal, error) {
	t, err := ParseKey(token)
	if err != nil {
		return Principal{}, err
	}
	k, err := a.keys.Key(ctx, t.ID)
	switch {
	case gateway.ErrorCode(err) == gateway.ENOTFOUND:
		// Hash anyway, so an unknown id costs what a wrong secret does.
		_ = Key{}.Verify(t)
		return Principal{}, invalidKey()
	case err != nil:
		return Principal{}, fmt.Errorf("look up API key %s: %w", t.ID, err)
	case !k.Verify(t):
		return Principal{}, invalidKey()
	case !k.Active(a.now()):
		return Principal{}, unauthorized(KeyField, CodeRevoked, "the API key has been revoked")
	default:
		return k.Principal(), nil
	}
}

func invalidKey() error {
	return unauthorized(KeyField, CodeInvalid, "the API key is not valid")
}

func unauthorized(field, code, msg string) *gateway.Error {
	return &gateway.Error{Code: gateway.EUNAUTHORIZED, Message: msg,
		Details: []gateway.Detail{{Field: field, Code: code, Message: msg}}}
}
