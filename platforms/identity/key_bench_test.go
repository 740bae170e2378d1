package identity

import (
	"bytes"
	"testing"
)

// BenchmarkKey keys a MyKad number, as the HTTP doors do for every event
// that names its worker by national ID:
//
//	go test -run '^$' -bench 'Key|Normalize' -benchmem ./platforms/identity
func BenchmarkKey(b *testing.B) {
	k, err := NewKeyer(KeyerConfig{Secret: bytes.Repeat([]byte("k"), 32)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		k.Key("MY", "900101145678")
	}
}

func BenchmarkNormalize(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Normalize("MY", "900101-14-5678"); err != nil {
			b.Fatal(err)
		}
	}
}
