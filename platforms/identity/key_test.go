package identity_test

import (
	"testing"

	"github.com/coverbridge/coverbridge/platforms/identity"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newKeyer(t *testing.T) *identity.Keyer {
	t.Helper()
	k, err := identity.NewKeyer(identity.KeyerConfig{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The expected keys were computed with
//
//	printf 'CN:360426199101010071' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
//
// so the documented input is pinned down independently of this code.
func TestKeyGolden(t *testing.T) {
	k := newKeyer(t)
	tests := []struct{ country, id, want string }{
		{"CN", "360426199101010071", "fc095c9159438cbc1dc45f75573ec756cb9128f93b5a21d50e8367ca3856a097"},
		{"cn", "360426199101010071", "fc095c9159438cbc1dc45f75573ec756cb9128f93b5a21d50e8367ca3856a097"},
		{"SG", "S1234567D", "66565156a7cf2bf454aaf88e57d7394f0c1e3d73267b7b858a671c9bbac35932"},
	}
	for _, tt := range tests {
		if got := k.Key(tt.country, tt.id); got != tt.want {
			t.Errorf("Key(%q, %q) = %s, want %s", tt.country, tt.id, got, tt.want)
		}
	}
}

func TestKeySeparatesCountriesAndSecrets(t *testing.T) {
	k := newKeyer(t)
	// The same digits are different people in different countries.
	if k.Key("MY", "770305021234") == k.Key("IN", "770305021234") {
		t.Error("same key for two countries")
	}
	// The colon keeps country and number apart.
	if k.Key("CN", "1") == k.Key("CN1", "") {
		t.Error("country and number run together")
	}
	other, err := identity.NewKeyer(identity.KeyerConfig{Secret: []byte("another secret of thirty-two by.")})
	if err != nil {
		t.Fatal(err)
	}
	if k.Key("CN", "360426199101010071") == other.Key("CN", "360426199101010071") {
		t.Error("same key under two secrets")
	}
}

func TestKeyIsStableAcrossSpellings(t *testing.T) {
	k := newKeyer(t)
	a, err := identity.Normalize("CL", "12.531.909-2")
	if err != nil {
		t.Fatal(err)
	}
	b, err := identity.Normalize("cl", "0125319092")
	if err != nil {
		t.Fatal(err)
	}
	if k.Key("CL", a) != k.Key("cl", b) {
		t.Error("two spellings of one RUT give two worker keys")
	}
}

func TestNewKeyer(t *testing.T) {
	if _, err := identity.NewKeyer(identity.KeyerConfig{}); err == nil {
		t.Error("no secret accepted")
	}
	if _, err := identity.NewKeyer(identity.KeyerConfig{Secret: testSecret[:31]}); err == nil {
		t.Error("31-byte secret accepted")
	}
	secret := append([]byte(nil), testSecret...)
	k, err := identity.NewKeyer(identity.KeyerConfig{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	before := k.Key("CN", "360426199101010071")
	secret[0] ^= 0xff
	if k.Key("CN", "360426199101010071") != before {
		t.Error("Keyer shares the caller's secret slice")
	}
}
