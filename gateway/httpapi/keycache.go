package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/platforms/access"
)

// keyCache is a KeyStore that remembers keys and access policies for a
// short while, so that a request is not two PostgreSQL reads before it is
// handled. A key's own expiry (a rotation's grace) is checked at each use;
// a revocation, a new signing secret or a platform's new limit made
// through another process takes up to ttl to apply, through this one at
// once (forget).
type keyCache struct {
	KeyStore
	ttl time.Duration
	now func() time.Time

	mu       sync.Mutex
	keys     map[string]cachedKey
	policies map[string]cachedPolicy
}

type cachedKey struct {
	key     access.Key
	missing bool // no such key
	until   time.Time
}

type cachedPolicy struct {
	policy postgres.AccessPolicy
	until  time.Time
}

// maxCachedKeys bounds each of the cache's maps; when full it starts over.
const maxCachedKeys = 100_000

func newKeyCache(store KeyStore, ttl time.Duration, now func() time.Time) *keyCache {
	return &keyCache{KeyStore: store, ttl: ttl, now: now, keys: map[string]cachedKey{}, policies: map[string]cachedPolicy{}}
}

// Key implements KeyStore.
func (c *keyCache) Key(ctx context.Context, id string) (access.Key, error) {
	now := c.now()
	c.mu.Lock()
	k, ok := c.keys[id]
	c.mu.Unlock()
	if ok && now.Before(k.until) {
		if k.missing {
			return access.Key{}, gateway.Errorf(gateway.ENOTFOUND, "no API key %s", id)
		}
		return k.key, nil
	}
	key, err := c.KeyStore.Key(ctx, id)
	missing := gateway.ErrorCode(err) == gateway.ENOTFOUND
	if err != nil && !missing {
		return key, err
	}
	c.mu.Lock()
	if len(c.keys) >= maxCachedKeys {
		clear(c.keys)
	}
	c.keys[id] = cachedKey{key: key, missing: missing, until: now.Add(c.ttl)}
	c.mu.Unlock()
	return key, err
}

// AccessPolicy implements KeyStore. The policy is the one in force when it
// was read.
func (c *keyCache) AccessPolicy(ctx context.Context, platformID string, at time.Time) (postgres.AccessPolicy, error) {
	c.mu.Lock()
	p, ok := c.policies[platformID]
	c.mu.Unlock()
	if ok && at.Before(p.until) {
		return p.policy, nil
	}
	policy, err := c.KeyStore.AccessPolicy(ctx, platformID, at)
	if err != nil {
		return policy, err
	}
	c.mu.Lock()
	if len(c.policies) >= maxCachedKeys {
		clear(c.policies)
	}
	c.policies[platformID] = cachedPolicy{policy: policy, until: at.Add(c.ttl)}
	c.mu.Unlock()
	return policy, nil
}

// forget drops what is remembered of a key and of a platform's policy.
func (c *keyCache) forget(keyID, platformID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.keys, keyID)
	delete(c.policies, platformID)
}
