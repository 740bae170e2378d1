package main

import (
	"io"
	"maps"
	"testing"
	"time"
)

func TestCloseGraceSetting(t *testing.T) {
	tests := []struct {
		value  string
		def    time.Duration
		scheme map[string]time.Duration
		bad    bool
	}{
		{value: "72h", def: 72 * time.Hour},
		{value: "48h, kr-ei=120h,my-sess=0s", def: 48 * time.Hour, scheme: map[string]time.Duration{"kr-ei": 120 * time.Hour, "my-sess": 0}},
		{value: "kr-ei=120h", bad: true},
		{value: "72h,kr-ei", bad: true},
		{value: "72h,=1h", bad: true},
		{value: "72h,kr-ei=-1h", bad: true},
		{value: "-1h", bad: true},
		{value: "", bad: true},
	}
	for _, tt := range tests {
		cfg, err := parseConfig("serve", []string{"--close-grace", tt.value}, io.Discard)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: accepted", tt.value)
			}
			continue
		}
		if err != nil || cfg.CloseGrace != tt.def || !maps.Equal(cfg.SchemeGrace, tt.scheme) {
			t.Errorf("%q: %v %v, %v; want %v %v", tt.value, cfg.CloseGrace, cfg.SchemeGrace, err, tt.def, tt.scheme)
		}
	}
}

func TestEngineCacheSetting(t *testing.T) {
	for value, want := range map[string]int{"": 100_000, "0": 0, "5000": 5000, "-1": -1, "many": -1} {
		args := []string{"--engine-cache", value}
		if value == "" {
			args = nil
		}
		cfg, err := parseConfig("serve", args, io.Discard)
		switch {
		case want < 0 && err == nil:
			t.Errorf("%q: accepted", value)
		case want >= 0 && (err != nil || cfg.EngineCache != want):
			t.Errorf("%q: %d, %v; want %d", value, cfg.EngineCache, err, want)
		}
	}
}
