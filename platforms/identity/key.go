package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"sync"
)

// MinSecretLen is the shortest secret NewKeyer accepts, in bytes.
const MinSecretLen = 32

// KeyerConfig configures a Keyer.
type KeyerConfig struct {
	// Secret is the HMAC key. Required, at least MinSecretLen bytes, drawn
	// from a cryptographic random source. It must never change: every worker
	// key is derived from it.
	Secret []byte
}

// Keyer derives worker keys: the stable, non-reversible identifier of a
// person across platforms. It is safe for concurrent use.
type Keyer struct {
	secret []byte
	macs   sync.Pool // of keyed HMAC-SHA256 states, reset before use
}

// NewKeyer returns a Keyer, or an error when the secret is missing or short.
func NewKeyer(cfg KeyerConfig) (*Keyer, error) {
	if len(cfg.Secret) < MinSecretLen {
		return nil, errors.New("identity: worker key secret must be at least 32 bytes")
	}
	k := &Keyer{secret: append([]byte(nil), cfg.Secret...)}
	k.macs.New = func() any { return hmac.New(sha256.New, k.secret) }
	return k, nil
}

// Key returns the worker key of a national ID: the lower-case hexadecimal
// HMAC-SHA256, under the secret, of the bytes
//
//	COUNTRY ":" ID
//
// where COUNTRY is country with ASCII letters upper-cased (so "cn" and "CN"
// give the same key) and ID is normalisedID unchanged, with no terminator.
// normalisedID must be the output of Normalize for the same country; any
// other spelling of the same number gives a different key.
//
// The result is 64 characters long.
func (k *Keyer) Key(country, normalisedID string) string {
	mac := k.macs.Get().(hash.Hash)
	mac.Reset()
	var buf [64]byte
	in := buf[:0]
	for i := 0; i < len(country); i++ {
		c := country[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		in = append(in, c)
	}
	in = append(in, ':')
	in = append(in, normalisedID...)
	mac.Write(in)
	var sum [sha256.Size]byte
	mac.Sum(sum[:0])
	k.macs.Put(mac)
	return hex.EncodeToString(sum[:])
}
