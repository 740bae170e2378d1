package httpapi

import (
	"testing"
	"time"
)

func TestWorkerKeyCacheIsBounded(t *testing.T) {
	c := workerKeyCache{size: 4}
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	c.put("p", []string{"a", "b", "c"}, map[string]string{"a": "ka"}, now)
	if e := c.m[workerRefKey{"p", "a"}]; e.key != "ka" || !e.until.Equal(now.Add(workerKeyKnownTTL)) {
		t.Errorf("a = %+v, want its key for %s", e, workerKeyKnownTTL)
	}
	if e, ok := c.m[workerRefKey{"p", "b"}]; !ok || e.key != "" || !e.until.Equal(now.Add(workerKeyMissTTL)) {
		t.Errorf("b = %+v, want no key for %s", e, workerKeyMissTTL)
	}
	c.put("p", []string{"d", "e"}, map[string]string{"d": "kd"}, now)
	if len(c.m) > c.size {
		t.Errorf("the cache holds %d entries, more than %d", len(c.m), c.size)
	}
	if c.m[workerRefKey{"p", "d"}].key != "kd" {
		t.Error("the newest entry was dropped")
	}
}
