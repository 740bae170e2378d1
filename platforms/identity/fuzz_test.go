package identity_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/platforms/identity"
)

// messages maps "country code" to the one message a failure kind has in that
// country, learnt from the table cases. A message that differs, or a failure
// kind the tables do not cover, fails the fuzz test: messages must not
// depend on the input.
func messages(t testing.TB) map[string]string {
	m := map[string]string{}
	add := func(key string, err error) {
		var e *gateway.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v is not a *gateway.Error", key, err)
		}
		m[key+" "+e.Details[0].Code] = e.Details[0].Message
	}
	for country, cs := range cases {
		for _, tc := range cs {
			if tc.code != "" {
				add(country, identity.Validate(country, tc.raw))
			}
		}
		add(country, identity.Validate(country, ""))
		add(country, identity.Validate(country, strings.Repeat("9", 100)))
	}
	add("*", identity.Validate("ZZ", ""))
	return m
}

func FuzzNormalize(f *testing.F) {
	for country, cs := range cases {
		for _, tc := range cs {
			f.Add(country, tc.raw)
		}
	}
	for _, raw := range []string{"", " ", "-", "X", "K", "S", "\xff", "０", "\u200b", "ı", "ſ", "K12345678", "1-K", strings.Repeat("-", 70)} {
		f.Add("CL", raw)
		f.Add("SG", raw)
	}
	f.Add("cn", "44011320141005001x")
	f.Add("ZZ", "1")
	msgs := messages(f)
	countries := identity.Countries()

	f.Fuzz(func(t *testing.T, country, raw string) {
		for _, c := range append([]string{country}, countries...) {
			out, err := identity.Normalize(c, raw)
			if err != nil {
				checkFuzzError(t, msgs, c, err)
				continue
			}
			if out == "" || len(out) > 18 {
				t.Fatalf("Normalize(%q, %q) = %q", c, raw, out)
			}
			for i := 0; i < len(out); i++ {
				if ch := out[i]; (ch < '0' || ch > '9') && (ch < 'A' || ch > 'Z') {
					t.Fatalf("Normalize(%q, %q) = %q holds %q", c, raw, out, ch)
				}
			}
			again, err := identity.Normalize(c, out)
			if err != nil || again != out {
				t.Fatalf("Normalize(%q, %q) = %q, but Normalize of that = %q, %v", c, raw, out, again, err)
			}
		}
	})
}

func checkFuzzError(t *testing.T, msgs map[string]string, country string, err error) {
	t.Helper()
	var e *gateway.Error
	if !errors.As(err, &e) || e.Code != gateway.EINVALID || len(e.Details) != 1 || e.Details[0].Field != identity.Field {
		t.Fatalf("error %#v has the wrong shape", err)
	}
	d := e.Details[0]
	key := strings.ToUpper(country) + " " + d.Code
	if d.Code == identity.CodeUnsupportedCountry {
		key = "* " + d.Code
	}
	want, ok := msgs[key]
	if !ok {
		t.Fatalf("failure kind %q is not covered by the table cases", key)
	}
	if d.Message != want {
		t.Fatalf("%s: message %q, want the fixed %q", key, d.Message, want)
	}
	if m := digitRun.FindString(err.Error()); m != "" {
		t.Fatalf("error %q holds the digit run %q", err.Error(), m)
	}
}

func FuzzMask(f *testing.F) {
	for _, cs := range cases {
		for _, tc := range cs {
			f.Add(tc.raw)
		}
	}
	f.Fuzz(func(t *testing.T, id string) {
		m := identity.Mask(id)
		if strings.Contains(id, "*") {
			return
		}
		shown := strings.TrimLeft(m, "*")
		if n := utf8.RuneCountInString(shown); n > 4 {
			t.Fatalf("Mask(%q) = %q shows %d characters", id, m, n)
		}
	})
}
