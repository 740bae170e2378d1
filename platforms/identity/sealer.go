package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// KeyLen is the length of a sealing key in bytes (AES-256).
const KeyLen = 32

// Errors returned by Sealer.Open. They describe stored data or
// configuration, not input, and map to gateway.EINTERNAL.
var (
	// ErrUnknownKeyID: the value was sealed with a key id that is not
	// configured.
	ErrUnknownKeyID = errors.New("identity: sealed national ID uses an unknown key id")
	// ErrNotAuthentic: the value is truncated, was altered, or belongs to a
	// different worker key.
	ErrNotAuthentic = errors.New("identity: sealed national ID failed authentication")
)

// SealerConfig configures a Sealer.
type SealerConfig struct {
	// Keys maps a key id to a KeyLen-byte AES-256 key. Required. Keep retired
	// keys here until every value sealed with them has been sealed again, so
	// that older values still open.
	Keys map[byte][]byte
	// KeyID is the id of the key that seals new values; it must be in Keys.
	// No default: 0 is a valid id.
	KeyID byte
}

// Sealer encrypts raw national IDs for storage with AES-256-GCM. It is safe
// for concurrent use.
//
// A sealed value is
//
//	key id (1 byte) || nonce (12 random bytes) || ciphertext || tag (16 bytes)
//
// and the additional authenticated data is
//
//	key id (1 byte) || "national_id:" || worker key
//
// so a value opens only with the worker key it was sealed for, and the key id
// cannot be altered. Nonces are random, so a key must seal fewer than 2^32
// values; rotate it well before.
type Sealer struct {
	current byte
	aeads   map[byte]cipher.AEAD
}

// Overhead is the number of bytes a sealed value adds to the plaintext.
const Overhead = 1 + 12 + 16

// NewSealer returns a Sealer, or an error when a key has the wrong length or
// is all zeros, or KeyID names no key.
func NewSealer(cfg SealerConfig) (*Sealer, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("identity: sealer needs at least one key")
	}
	if _, ok := cfg.Keys[cfg.KeyID]; !ok {
		return nil, fmt.Errorf("identity: sealing key id %d is not among the configured keys", cfg.KeyID)
	}
	s := &Sealer{current: cfg.KeyID, aeads: make(map[byte]cipher.AEAD, len(cfg.Keys))}
	for _, id := range slices.Sorted(maps.Keys(cfg.Keys)) {
		key := cfg.Keys[id]
		if len(key) != KeyLen {
			return nil, fmt.Errorf("identity: sealing key %d is %d bytes, want %d", id, len(key), KeyLen)
		}
		if allZero(key) {
			return nil, fmt.Errorf("identity: sealing key %d is all zeros", id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("identity: sealing key %d: %w", id, err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("identity: sealing key %d: %w", id, err)
		}
		s.aeads[id] = aead
	}
	return s, nil
}

// Seal encrypts a national ID (normally the output of Normalize) for the
// worker with workerKey, under the current key and a fresh random nonce.
// It fails only when workerKey or nationalID is empty.
func (s *Sealer) Seal(workerKey, nationalID string) ([]byte, error) {
	if workerKey == "" {
		return nil, errors.New("identity: sealing needs the worker key")
	}
	if nationalID == "" {
		return nil, errors.New("identity: nothing to seal")
	}
	out := make([]byte, 1, Overhead+len(nationalID))
	out[0] = s.current
	return s.aeads[s.current].Seal(out, nil, []byte(nationalID), aad(s.current, workerKey)), nil
}

// Open decrypts a value made by Seal for the same workerKey. It returns
// ErrUnknownKeyID or ErrNotAuthentic.
func (s *Sealer) Open(workerKey string, sealed []byte) (string, error) {
	if len(sealed) < Overhead {
		return "", ErrNotAuthentic
	}
	aead, ok := s.aeads[sealed[0]]
	if !ok {
		return "", ErrUnknownKeyID
	}
	plain, err := aead.Open(nil, nil, sealed[1:], aad(sealed[0], workerKey))
	if err != nil {
		return "", ErrNotAuthentic
	}
	return string(plain), nil
}

// Current reports whether sealed was made with the current key; values for
// which it is false should be opened and sealed again when keys rotate.
func (s *Sealer) Current(sealed []byte) bool {
	return len(sealed) > 0 && sealed[0] == s.current
}

func aad(keyID byte, workerKey string) []byte {
	const label = "national_id:"
	b := make([]byte, 0, 1+len(label)+len(workerKey))
	b = append(b, keyID)
	b = append(b, label...)
	return append(b, workerKey...)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
