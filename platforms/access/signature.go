package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the request header that carries a signature.
const SignatureHeader = "Coverbridge-Signature"

// DefaultWindow is how far a signature's timestamp may be from the server's
// clock, either way, when VerifierConfig.Window is zero.
const DefaultWindow = 5 * time.Minute

// Header limits: a longer header, or more v1 values, is malformed.
const (
	maxSignatureHeader = 1024
	maxSignatures      = 8
)

// Sign returns the SignatureHeader value for body sent at t:
//
//	t=<unix seconds>,v1=<lower-case hex HMAC-SHA256(secret, "<unix seconds>.<body>")>
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(signature(hmac.New(sha256.New, secret), ts, body))
}

// signature writes ts "." body into mac and returns the sum.
func signature(mac hash.Hash, ts string, body []byte) []byte {
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Window is how far the signed timestamp may be from Now, in the past
	// (delay, replay) or the future (a platform clock running fast).
	// Default DefaultWindow.
	Window time.Duration
	// Now is the server clock. Default time.Now.
	Now func() time.Time
}

// Verifier checks request signatures. It is safe for concurrent use.
type Verifier struct {
	window time.Duration
	now    func() time.Time
}

// NewVerifier returns a Verifier.
func NewVerifier(cfg VerifierConfig) *Verifier {
	v := &Verifier{window: cfg.Window, now: cfg.Now}
	if v.window <= 0 {
		v.window = DefaultWindow
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v
}

// Window returns the replay window.
func (v *Verifier) Window() time.Duration { return v.window }

// Verify checks the SignatureHeader value header against body. It passes
// when the timestamp is within the window and one v1 value is the HMAC of
// the timestamp and body under one of secrets (several secrets let a
// platform rotate its signing secret). Errors are *gateway.Error with code
// EUNAUTHORIZED and one detail on SignatureHeader: missing, malformed,
// stale or mismatch. Values other than t and v1 are ignored, so a later
// scheme can be sent alongside.
func (v *Verifier) Verify(header string, body []byte, secrets ...[]byte) error {
	if strings.TrimSpace(header) == "" {
		return unauthorized(SignatureHeader, CodeMissing, "this platform signs its requests: the "+SignatureHeader+" header is required")
	}
	ts, sigs, err := parseSignature(header)
	if err != nil {
		return unauthorized(SignatureHeader, CodeMalformed,
			fmt.Sprintf("the %s header is malformed (%v); send t=<unix seconds>,v1=<hex HMAC-SHA256>", SignatureHeader, err))
	}
	unix, _ := strconv.ParseInt(ts, 10, 64) // checked by parseSignature
	now := v.now()
	age := now.Sub(time.Unix(unix, 0)) // saturates instead of overflowing
	switch {
	case age > v.window:
		return unauthorized(SignatureHeader, CodeStale,
			fmt.Sprintf("the signature timestamp is %s old; sign each request within %s of sending it", age.Truncate(time.Second), v.window))
	case age < -v.window:
		return unauthorized(SignatureHeader, CodeStale,
			fmt.Sprintf("the signature timestamp is %s ahead of the gateway's clock, more than the %s allowed; check the clock", (-age).Truncate(time.Second), v.window))
	}
	ok := false
	for _, secret := range secrets {
		want := signature(hmac.New(sha256.New, secret), ts, body)
		for _, sig := range sigs {
			// Check every pair, so timing does not tell which matched.
			if hmac.Equal(sig, want) {
				ok = true
			}
		}
	}
	if !ok {
		return unauthorized(SignatureHeader, CodeMismatch, "the signature does not match the request body and timestamp")
	}
	return nil
}

// parseSignature returns the timestamp text and the decoded v1 values.
func parseSignature(h string) (ts string, sigs [][]byte, err error) {
	if len(h) > maxSignatureHeader {
		return "", nil, fmt.Errorf("longer than %d bytes", maxSignatureHeader)
	}
	seenT := false
	for part := range strings.SplitSeq(h, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, fmt.Errorf("%q is not key=value", shorten(part))
		}
		switch k {
		case "t":
			if seenT {
				return "", nil, errors.New("t given twice")
			}
			seenT = true
			if !isUnixSeconds(val) {
				return "", nil, errors.New("t must be whole Unix seconds")
			}
			ts = val
		case "v1":
			if len(sigs) == maxSignatures {
				return "", nil, fmt.Errorf("more than %d v1 values", maxSignatures)
			}
			sig, err := hex.DecodeString(val)
			if err != nil || len(sig) != sha256.Size {
				return "", nil, fmt.Errorf("v1 must be %d hexadecimal digits", 2*sha256.Size)
			}
			sigs = append(sigs, sig)
		}
	}
	switch {
	case !seenT:
		return "", nil, errors.New("no t")
	case len(sigs) == 0:
		return "", nil, errors.New("no v1")
	}
	return ts, sigs, nil
}

// isUnixSeconds accepts 1 to 12 decimal digits: any time up to the year
// 33658, without overflow.
func isUnixSeconds(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func shorten(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
