package access

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

var tokenPattern = regexp.MustCompile(`^cbk_live_[a-z2-7]{8}_[a-z2-7]{52}$`)

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		token, key, err := NewKey("cbk_live")
		if err != nil {
			t.Fatal(err)
		}
		if !tokenPattern.MatchString(token) {
			t.Fatalf("token %q does not match %s", token, tokenPattern)
		}
		if seen[key.ID] || seen[token] {
			t.Fatalf("id %s issued twice", key.ID)
		}
		seen[key.ID], seen[token] = true, true
		secret := token[strings.LastIndexByte(token, '_')+1:]
		if key.Hash != sha256.Sum256([]byte(secret)) || key.Prefix != "cbk_live" || !strings.Contains(token, "_"+key.ID+"_") {
			t.Fatalf("key %+v does not match token", key)
		}
		parsed, err := ParseKey(token)
		if err != nil {
			t.Fatalf("ParseKey(new token) error = %v", err)
		}
		if !key.Verify(parsed) {
			t.Fatal("a new key does not verify its own token")
		}
	}
}

func TestNewKeyPrefix(t *testing.T) {
	for _, p := range []string{"cbk", "cbk_live", "cbk_test", "a1_b2_c3"} {
		if _, _, err := NewKey(p); err != nil {
			t.Errorf("NewKey(%q) error = %v", p, err)
		}
	}
	for _, p := range []string{"", "Cbk_live", "cbk-live", "_cbk", "cbk_", "cbk__live", "1cbk", "cbk live", strings.Repeat("a", MaxPrefixLen+1)} {
		if _, _, err := NewKey(p); err == nil {
			t.Errorf("NewKey(%q) accepted a bad prefix", p)
		}
	}
}

func TestParseKey(t *testing.T) {
	token, _, err := NewKey("cbk_live")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, "_") // cbk live id secret
	id, secret := parts[2], parts[3]
	tests := []struct {
		name, token, code string
	}{
		{"empty", "", CodeMissing},
		{"no underscore", "abcdef", CodeMalformed},
		{"one underscore", "cbk_" + secret, CodeMalformed},
		{"no prefix", "_" + id + "_" + secret, CodeMalformed},
		{"short id", "cbk_live_" + id[:7] + "_" + secret, CodeMalformed},
		{"long id", "cbk_live_" + id + "a_" + secret, CodeMalformed},
		{"short secret", "cbk_live_" + id + "_" + secret[:51], CodeMalformed},
		{"long secret", token + "a", CodeMalformed},
		{"upper case", strings.ToUpper(token), CodeMalformed},
		{"base32 digit 1", "cbk_live_" + id + "_1" + secret[1:], CodeMalformed},
		{"space", " " + token, CodeMalformed},
		{"bearer left in", "Bearer " + token, CodeMalformed},
		{"bad prefix", "cbk-live_" + id + "_" + secret, CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKey(tt.token)
			assertUnauthorized(t, err, KeyField, tt.code)
			if tt.token != "" && strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
	p, err := ParseKey(token)
	if err != nil || p.Prefix != "cbk_live" || p.ID != id {
		t.Fatalf("ParseKey = %+v, %v", p, err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if s := fmt.Sprintf(format, p); strings.Contains(s, secret) {
			t.Errorf("%s of a token shows the secret: %s", format, s)
		}
	}
}

func TestKeyVerify(t *testing.T) {
	token, key, _ := NewKey("cbk_live")
	other, _, _ := NewKey("cbk_live")
	parse := func(s string) Token {
		p, err := ParseKey(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := parse(token)
	secretOfOther := parse(other)
	secretOfOther.ID = key.ID // the right id with another key's secret
	testEnv := good
	testEnv.Prefix = "cbk_test" // the right id and secret in another environment
	tests := []struct {
		name string
		t    Token
		want bool
	}{
		{"own token", good, true},
		{"another key's secret", secretOfOther, false},
		{"another environment", testEnv, false},
		{"another key", parse(other), false},
		{"zero token", Token{}, false},
	}
	for _, tt := range tests {
		if got := key.Verify(tt.t); got != tt.want {
			t.Errorf("%s: Verify = %v, want %v", tt.name, got, tt.want)
		}
	}
	if (Key{}).Verify(Token{}) {
		t.Error("the zero key verifies the zero token")
	}
}

// memKeys is a KeyStore in memory.
type memKeys map[string]Key

func (m memKeys) Key(_ context.Context, id string) (Key, error) {
	k, ok := m[id]
	if !ok {
		return Key{}, gateway.Errorf(gateway.ENOTFOUND, "no key %s", id)
	}
	return k, nil
}

type failingKeys struct{}

func (failingKeys) Key(context.Context, string) (Key, error) {
	return Key{}, errors.New("connection refused")
}

func TestAuthenticate(t *testing.T) {
	now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	issue := func(role Role, platform string, revoked time.Time) (string, Key) {
		token, k, err := NewKey("cbk_live")
		if err != nil {
			t.Fatal(err)
		}
		k.Role, k.PlatformID, k.CreatedAt, k.RevokedAt = role, platform, now.Add(-time.Hour), revoked
		return token, k
	}
	live, liveKey := issue(RolePlatform, "demo", time.Time{})
	revoked, revokedKey := issue(RolePlatform, "demo", now.Add(-time.Second))
	rotating, rotatingKey := issue(RoleFinance, "", now.Add(time.Hour)) // revoked in an hour: still good
	unknown, _ := issue(RoleAdmin, "", time.Time{})
	store := memKeys{liveKey.ID: liveKey, revokedKey.ID: revokedKey, rotatingKey.ID: rotatingKey}
	a, err := NewAuthenticator(AuthenticatorConfig{Keys: store, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	wrongSecret := live[:len(live)-4] + "aaaa"
	if wrongSecret == live {
		wrongSecret = live[:len(live)-4] + "bbbb"
	}
	tests := []struct {
		name, token string
		want        Principal
		code        string
	}{
		{"platform key", live, Principal{KeyID: liveKey.ID, PlatformID: "demo", Role: RolePlatform}, ""},
		{"key revoked later", rotating, Principal{KeyID: rotatingKey.ID, Role: RoleFinance}, ""},
		{"missing", "", Principal{}, CodeMissing},
		{"malformed", "not-a-key", Principal{}, CodeMalformed},
		{"unknown id", unknown, Principal{}, CodeInvalid},
		{"wrong secret", wrongSecret, Principal{}, CodeInvalid},
		{"revoked", revoked, Principal{}, CodeRevoked},
		{"other environment", strings.Replace(live, "cbk_live", "cbk_test", 1), Principal{}, CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(context.Background(), tt.token)
			if tt.code == "" {
				if err != nil || p != tt.want {
					t.Fatalf("Authenticate = %+v, %v; want %+v", p, err, tt.want)
				}
				return
			}
			assertUnauthorized(t, err, KeyField, tt.code)
			if p != (Principal{}) {
				t.Errorf("principal %+v returned with an error", p)
			}
		})
	}
	t.Run("unknown and wrong answer alike", func(t *testing.T) {
		_, e1 := a.Authenticate(context.Background(), unknown)
		_, e2 := a.Authenticate(context.Background(), wrongSecret)
		if e1.Error() != e2.Error() {
			t.Errorf("an unknown key (%v) and a wrong secret (%v) answer differently", e1, e2)
		}
	})
	t.Run("store failure", func(t *testing.T) {
		a, _ := NewAuthenticator(AuthenticatorConfig{Keys: failingKeys{}})
		_, err := a.Authenticate(context.Background(), live)
		if err == nil || gateway.ErrorCode(err) != gateway.EINTERNAL {
			t.Errorf("error = %v, want an internal error", err)
		}
	})
	if _, err := NewAuthenticator(AuthenticatorConfig{}); err == nil {
		t.Error("NewAuthenticator accepted a config without a store")
	}
}

// assertUnauthorized checks that err is an unauthorized *gateway.Error with
// one detail naming field and code.
func assertUnauthorized(t *testing.T, err error, field, code string) {
	t.Helper()
	var ge *gateway.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error = %v, want *gateway.Error", err)
	}
	if ge.Code != gateway.EUNAUTHORIZED || len(ge.Details) != 1 || ge.Details[0].Field != field || ge.Details[0].Code != code {
		t.Fatalf("error = %+v, want unauthorized on %s with code %s", ge, field, code)
	}
	if ge.Message == "" {
		t.Error("empty message")
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	token, key, _ := NewKey("cbk_live")
	key.Role, key.PlatformID = RolePlatform, "demo"
	a, _ := NewAuthenticator(AuthenticatorConfig{Keys: memKeys{key.ID: key}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyVerify(b *testing.B) {
	token, key, _ := NewKey("cbk_live")
	t, _ := ParseKey(token)
	b.ReportAllocs()
	for b.Loop() {
		if !key.Verify(t) {
			b.Fatal("no match")
		}
	}
}
