package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coverbridge/coverbridge/gateway"
)

func TestSignFormat(t *testing.T) {
	secret := []byte("whsec_test")
	at := time.Unix(1_790_000_000, 0)
	body := []byte(`{"event_id":"ord-1"}`)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("1790000000." + string(body)))
	want := "t=1790000000,v1=" + hex.EncodeToString(mac.Sum(nil))
	if got := Sign(secret, at, body); got != want {
		t.Errorf("Sign = %s\nwant   %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("platform signing secret")
	newSecret := []byte("the next signing secret")
	now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"event_id":"ord-1","gross":{"currency":"MYR","value":"23.50"}}`)
	sig := func(at time.Time, b []byte, s []byte) string { return Sign(s, at, b) }
	good := sig(now, body, secret)
	v1 := good[strings.Index(good, "v1="):]
	ts := strconv.FormatInt(now.Unix(), 10)

	tests := []struct {
		name    string
		header  string
		body    []byte
		secrets [][]byte
		code    string // "" for accepted
	}{
		{"valid", good, body, nil, ""},
		{"valid, spaces after commas", "t=" + ts + ", " + v1, body, nil, ""},
		{"valid, v1 first", v1 + ",t=" + ts, body, nil, ""},
		{"valid, hex digits upper case", "t=" + ts + ",v1=" + strings.ToUpper(v1[3:]), body, nil, ""},
		{"valid, unknown scheme alongside", "t=" + ts + ",v0=abc," + v1, body, nil, ""},
		{"valid, empty body", sig(now, nil, secret), nil, nil, ""},
		{"rotation: signed with the new secret", sig(now, body, newSecret), body, [][]byte{secret, newSecret}, ""},
		{"rotation: two signatures", good + ",v1=" + strings.Repeat("0", 64), body, nil, ""},
		{"clock skew: 4m59s old", sig(now.Add(-299*time.Second), body, secret), body, nil, ""},
		{"clock skew: exactly the window old", sig(now.Add(-DefaultWindow), body, secret), body, nil, ""},
		{"clock skew: 4m59s ahead", sig(now.Add(299*time.Second), body, secret), body, nil, ""},
		{"clock skew: exactly the window ahead", sig(now.Add(DefaultWindow), body, secret), body, nil, ""},

		{"missing", "", body, nil, CodeMissing},
		{"missing, blank", "  ", body, nil, CodeMissing},
		{"malformed: no t", v1, body, nil, CodeMalformed},
		{"malformed: no v1", "t=" + ts, body, nil, CodeMalformed},
		{"malformed: V1 in upper case", "t=" + ts + "," + strings.ToUpper(v1), body, nil, CodeMalformed},
		{"malformed: t not a number", "t=yesterday," + v1, body, nil, CodeMalformed},
		{"malformed: t negative", "t=-1," + v1, body, nil, CodeMalformed},
		{"malformed: t in milliseconds", "t=" + ts + "000," + v1, body, nil, CodeMalformed},
		{"malformed: t overflows", "t=99999999999999999999," + v1, body, nil, CodeMalformed},
		{"malformed: t twice", "t=" + ts + ",t=" + ts + "," + v1, body, nil, CodeMalformed},
		{"malformed: v1 not hex", "t=" + ts + ",v1=" + strings.Repeat("z", 64), body, nil, CodeMalformed},
		{"malformed: v1 short", "t=" + ts + ",v1=abcd", body, nil, CodeMalformed},
		{"malformed: v1 base64", "t=" + ts + ",v1=q83vEjRWeJC6zd7/EjRWeJC6zd7/EjRWeJC6zd7/EjQ=", body, nil, CodeMalformed},
		{"malformed: no key=value", "t=" + ts + "," + v1 + ",garbage", body, nil, CodeMalformed},
		{"malformed: bare hex", hex.EncodeToString(make([]byte, 32)), body, nil, CodeMalformed},
		{"malformed: too long", good + strings.Repeat(",x=y", 300), body, nil, CodeMalformed},
		{"malformed: too many signatures", "t=" + ts + strings.Repeat(","+v1, 9), body, nil, CodeMalformed},

		{"stale: replayed after the window", sig(now.Add(-DefaultWindow-time.Second), body, secret), body, nil, CodeStale},
		{"stale: replayed a day later", sig(now.Add(-24*time.Hour), body, secret), body, nil, CodeStale},
		{"stale: clock far ahead", sig(now.Add(DefaultWindow+time.Second), body, secret), body, nil, CodeStale},
		{"stale: year 1970", "t=0," + v1, body, nil, CodeStale},

		{"mismatch: body tampered", good, []byte(strings.Replace(string(body), "23.50", "93.50", 1)), nil, CodeMismatch},
		{"mismatch: body extended", good, append([]byte(string(body)), ' '), nil, CodeMismatch},
		{"mismatch: timestamp moved, signature kept", "t=" + strconv.FormatInt(now.Unix()-1, 10) + "," + v1, body, nil, CodeMismatch},
		{"mismatch: replayed onto another body", good, []byte(`{"event_id":"ord-2"}`), nil, CodeMismatch},
		{"mismatch: wrong secret", sig(now, body, []byte("guess")), body, nil, CodeMismatch},
		{"mismatch: old secret after rotation", good, body, [][]byte{newSecret}, CodeMismatch},
		{"mismatch: one bit flipped", "t=" + ts + ",v1=" + flipLastHex(v1[3:]), body, nil, CodeMismatch},
		{"mismatch: no secrets", good, body, [][]byte{}, CodeMismatch},
	}
	v := NewVerifier(VerifierConfig{Now: func() time.Time { return now }})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secrets := tt.secrets
			if secrets == nil {
				secrets = [][]byte{secret}
			}
			err := v.Verify(tt.header, tt.body, secrets...)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			assertUnauthorized(t, err, SignatureHeader, tt.code)
		})
	}
}

func flipLastHex(h string) string {
	last := h[len(h)-1]
	if last == '0' {
		return h[:len(h)-1] + "1"
	}
	return h[:len(h)-1] + "0"
}

func TestVerifyWindow(t *testing.T) {
	secret := []byte("s")
	now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	v := NewVerifier(VerifierConfig{Window: 30 * time.Second, Now: func() time.Time { return clock }})
	if v.Window() != 30*time.Second {
		t.Errorf("Window() = %s", v.Window())
	}
	h := Sign(secret, now, []byte("x"))
	for _, c := range []struct {
		after time.Duration
		code  string
	}{{0, ""}, {30 * time.Second, ""}, {31 * time.Second, CodeStale}, {-30 * time.Second, ""}, {-31 * time.Second, CodeStale}} {
		clock = now.Add(c.after)
		err := v.Verify(h, []byte("x"), secret)
		if c.code == "" {
			if err != nil {
				t.Errorf("at %s: %v", c.after, err)
			}
			continue
		}
		assertUnauthorized(t, err, SignatureHeader, c.code)
	}
	if NewVerifier(VerifierConfig{}).Window() != DefaultWindow {
		t.Error("default window is not DefaultWindow")
	}
}

func BenchmarkVerifySignature(b *testing.B) {
	secret := []byte("platform signing secret")
	body := []byte(strings.Repeat(`{"event_id":"ord-1","gross":{"currency":"MYR","value":"23.50"}},`, 16)) // about 1 KiB
	now := time.Now()
	h := Sign(secret, now, body)
	v := NewVerifier(VerifierConfig{Now: func() time.Time { return now }})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := v.Verify(h, body, secret); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerify checks that no header or key text makes the parsers panic, and
// that whatever Sign writes, Verify accepts.
func FuzzVerify(f *testing.F) {
	now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	f.Add("t=1790856000,v1=00", []byte("body"), []byte("secret"))
	f.Add(Sign([]byte("s"), now, []byte("b")), []byte("b"), []byte("s"))
	f.Add("cbk_live_abcdefgh_"+strings.Repeat("a", SecretLen), []byte{}, []byte{})
	v := NewVerifier(VerifierConfig{Now: func() time.Time { return now }})
	f.Fuzz(func(t *testing.T, header string, body, secret []byte) {
		if err := v.Verify(header, body, secret); err != nil {
			assertUnauthorizedCode(t, err)
		}
		if err := v.Verify(Sign(secret, now, body), body, secret); err != nil {
			t.Fatalf("Verify(Sign(...)) = %v", err)
		}
		if tok, err := ParseKey(header); err == nil {
			if got := tok.Prefix + "_" + tok.ID + "_" + tok.secret; got != header {
				t.Fatalf("ParseKey(%q) parts rejoin to %q", header, got)
			}
		} else {
			assertUnauthorizedCode(t, err)
		}
	})
}

func assertUnauthorizedCode(t *testing.T, err error) {
	t.Helper()
	if gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
		t.Fatalf("error = %v, want unauthorized", err)
	}
}
