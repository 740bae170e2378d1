package gateway

import (
	"testing"
)

func TestBuiltinPacksLoad(t *testing.T) {
	c, err := BuiltinPacks()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range c.Schemes() {
		ids = append(ids, s.ID)
		if s.Source == "" || s.Digest == "" || s.Location == nil {
			t.Errorf("%s: source, digest and zone are required", s.ID)
		}
	}
	want := []string{"cl-honorarios", "cn-oip", "in-coss", "in-ka-welfare", "kr-ei", "my-gig", "my-sess"}
	if len(ids) != len(want) {
		t.Fatalf("schemes = %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("schemes = %v, want %v", ids, want)
		}
	}
}
