package identity_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/coverbridge/coverbridge/platforms/identity"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, identity.KeyLen) }

func newSealer(t *testing.T, id byte, keys map[byte][]byte) *identity.Sealer {
	t.Helper()
	s, err := identity.NewSealer(identity.SealerConfig{Keys: keys, KeyID: id})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	workerA = "fc095c9159438cbc1dc45f75573ec756cb9128f93b5a21d50e8367ca3856a097"
	workerB = "66565156a7cf2bf454aaf88e57d7394f0c1e3d73267b7b858a671c9bbac35932"
)

func TestSealOpen(t *testing.T) {
	s := newSealer(t, 7, map[byte][]byte{7: testKey(1)})
	for _, id := range []string{"360426199101010071", "S1234567D", "10000013K", "x"} {
		sealed, err := s.Seal(workerA, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != identity.Overhead+len(id) {
			t.Errorf("sealed length %d, want %d", len(sealed), identity.Overhead+len(id))
		}
		if sealed[0] != 7 {
			t.Errorf("key id byte %d, want 7", sealed[0])
		}
		// A one-byte ID turns up by chance in random ciphertext; only IDs long
		// enough that a chance match is negligible prove anything here.
		if len(id) >= 8 && bytes.Contains(sealed, []byte(id)) {
			t.Errorf("sealed value holds the plaintext %q", id)
		}
		got, err := s.Open(workerA, sealed)
		if err != nil || got != id {
			t.Errorf("Open = %q, %v; want %q", got, err, id)
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	s := newSealer(t, 0, map[byte][]byte{0: testKey(1)})
	a, _ := s.Seal(workerA, "S1234567D")
	b, _ := s.Seal(workerA, "S1234567D")
	if bytes.Equal(a, b) {
		t.Fatal("sealing twice gave the same bytes")
	}
}

func TestSealRejectsEmpty(t *testing.T) {
	s := newSealer(t, 0, map[byte][]byte{0: testKey(1)})
	if _, err := s.Seal("", "S1234567D"); err == nil {
		t.Error("sealed without a worker key")
	}
	if _, err := s.Seal(workerA, ""); err == nil {
		t.Error("sealed an empty ID")
	}
}

func TestOpenDetectsTampering(t *testing.T) {
	s := newSealer(t, 1, map[byte][]byte{1: testKey(1)})
	sealed, err := s.Seal(workerA, "360426199101010071")
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			tampered := bytes.Clone(sealed)
			tampered[i] ^= bit
			got, err := s.Open(workerA, tampered)
			want := identity.ErrNotAuthentic
			if i == 0 {
				want = identity.ErrUnknownKeyID
			}
			if !errors.Is(err, want) || got != "" {
				t.Errorf("byte %d ^ %#x: Open = %q, %v; want %v", i, bit, got, err, want)
			}
		}
	}
	for _, n := range []int{0, 1, identity.Overhead - 1, len(sealed) - 1} {
		if _, err := s.Open(workerA, sealed[:n]); !errors.Is(err, identity.ErrNotAuthentic) {
			t.Errorf("truncated to %d bytes: %v, want ErrNotAuthentic", n, err)
		}
	}
	if _, err := s.Open(workerA, append(bytes.Clone(sealed), 0)); !errors.Is(err, identity.ErrNotAuthentic) {
		t.Errorf("extended: %v, want ErrNotAuthentic", err)
	}
}

func TestOpenChecksTheWorkerKey(t *testing.T) {
	s := newSealer(t, 1, map[byte][]byte{1: testKey(1)})
	sealed, err := s.Seal(workerA, "360426199101010071")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{workerB, "", workerA[:63], workerA + "0"} {
		if got, err := s.Open(key, sealed); !errors.Is(err, identity.ErrNotAuthentic) {
			t.Errorf("Open with worker key %q = %q, %v; want ErrNotAuthentic", key, got, err)
		}
	}
}

func TestOpenWithTheWrongKey(t *testing.T) {
	a := newSealer(t, 1, map[byte][]byte{1: testKey(1)})
	b := newSealer(t, 1, map[byte][]byte{1: testKey(2)})
	sealed, _ := a.Seal(workerA, "S1234567D")
	if _, err := b.Open(workerA, sealed); !errors.Is(err, identity.ErrNotAuthentic) {
		t.Fatalf("Open under another key: %v, want ErrNotAuthentic", err)
	}
}

func TestKeyRotation(t *testing.T) {
	old := newSealer(t, 1, map[byte][]byte{1: testKey(1)})
	sealed, _ := old.Seal(workerA, "S1234567D")

	rotated := newSealer(t, 2, map[byte][]byte{1: testKey(1), 2: testKey(2)})
	if rotated.Current(sealed) {
		t.Error("value sealed under key 1 reported current")
	}
	got, err := rotated.Open(workerA, sealed)
	if err != nil || got != "S1234567D" {
		t.Fatalf("Open of a value under the retired key = %q, %v", got, err)
	}
	resealed, _ := rotated.Seal(workerA, got)
	if resealed[0] != 2 || !rotated.Current(resealed) {
		t.Errorf("resealed under key %d", resealed[0])
	}
	if _, err := old.Open(workerA, resealed); !errors.Is(err, identity.ErrUnknownKeyID) {
		t.Errorf("old sealer opened a value under key 2: %v", err)
	}
}

func TestNewSealer(t *testing.T) {
	tests := []struct {
		name string
		cfg  identity.SealerConfig
	}{
		{"no keys", identity.SealerConfig{}},
		{"key id missing", identity.SealerConfig{Keys: map[byte][]byte{1: testKey(1)}, KeyID: 2}},
		{"short key", identity.SealerConfig{Keys: map[byte][]byte{0: testKey(1)[:16]}}},
		{"long key", identity.SealerConfig{Keys: map[byte][]byte{0: append(testKey(1), 1)}}},
		{"zero key", identity.SealerConfig{Keys: map[byte][]byte{0: testKey(0)}}},
		{"bad retired key", identity.SealerConfig{Keys: map[byte][]byte{0: testKey(1), 1: nil}}},
	}
	for _, tt := range tests {
		if _, err := identity.NewSealer(tt.cfg); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	key := testKey(3)
	s := newSealer(t, 0, map[byte][]byte{0: key})
	sealed, _ := s.Seal(workerA, "S1234567D")
	key[0] ^= 0xff
	if got, err := s.Open(workerA, sealed); err != nil || got != "S1234567D" {
		t.Errorf("changing the caller's key slice affected the Sealer: %q, %v", got, err)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := newSealer(t, 1, map[byte][]byte{1: testKey(1)})
	k := newKeyer(t)
	done := make(chan error)
	for range 8 {
		go func() {
			for range 100 {
				id, err := identity.Normalize("SG", "S1234567D")
				if err != nil {
					done <- err
					return
				}
				key := k.Key("SG", id)
				sealed, err := s.Seal(key, id)
				if err != nil {
					done <- err
					return
				}
				if _, err := s.Open(key, sealed); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
