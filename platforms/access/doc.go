// Package access decides who may call the gateway and how often: API keys,
// roles, request signatures and per-platform rate limits. It holds no
// storage; stores implement the small interfaces declared here.
//
// # API keys
//
// A key is shown once, when it is issued, as
//
//	<prefix>_<id>_<secret>      cbk_live_k3j5xq2a_<52 characters>
//
// The prefix names the environment ("cbk_live", "cbk_test") so a leaked key
// is recognisable and secret scanners can match it. The id is 8 public
// characters that name the key in listings, logs and the store. The secret
// is 256 bits from crypto/rand, base32 encoded; the gateway keeps only its
// SHA-256. A plain hash is enough here because the secret is random, not
// chosen by a person: password hashes such as bcrypt or Argon2 are slow on
// purpose to make guessing weak passwords costly, but guessing a 256-bit
// secret, or inverting SHA-256, is out of reach at any speed, so a slow hash
// would only add latency to every request. Comparison is constant-time.
//
// # Roles
//
// A key has one role. Platform keys reach their own platform's data and
// nothing else: another platform's events, workers or statements are
// answered as not found, so their existence leaks nothing. Finance reads all
// platforms' statements and reconciles payments; compliance reads and
// resolves gaps; admin does everything. Principal.Authorize applies the
// table in role.go.
//
// # Signatures
//
// Platforms may also sign each request:
//
//	Coverbridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//
// The signing secret is separate from the API key (the gateway must hold it
// to verify, whereas it holds only a hash of the key). A signature is
// accepted within a window around the server's clock, five minutes either
// side by default; a captured request cannot be replayed after that, and a
// replay within it is absorbed by the idempotency of event ids and
// Idempotency-Key.
//
// # Rate limits
//
// Limiter is a token bucket per platform in exact integer arithmetic, with
// the time to wait when a request is refused, for 429 Retry-After.
package access
