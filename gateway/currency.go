package gateway

import "strconv"

// Currency is an ISO 4217 alphabetic currency code such as "MYR" or "KRW".
// Only codes in the table below are accepted; LookupCurrency is the way in.
type Currency string

// Currencies the gateway knows, with the number of minor-unit digits ISO 4217
// assigns to each (KRW 0: amounts are whole won; MYR 2: amounts are sen).
var currencyExponents = map[Currency]int{
	// No minor unit.
	"CLP": 0, "ISK": 0, "JPY": 0, "KRW": 0, "PYG": 0, "UGX": 0, "VND": 0,
	"XAF": 0, "XOF": 0, "RWF": 0, "KMF": 0, "GNF": 0, "DJF": 0, "VUV": 0,
	// Two digits.
	"AED": 2, "ARS": 2, "AUD": 2, "BDT": 2, "BRL": 2, "CAD": 2, "CHF": 2,
	"CNY": 2, "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2,
	"GHS": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "KES": 2,
	"LKR": 2, "MXN": 2, "MYR": 2, "NGN": 2, "NOK": 2, "NPR": 2, "NZD": 2,
	"PEN": 2, "PHP": 2, "PKR": 2, "PLN": 2, "RON": 2, "SAR": 2, "SEK": 2,
	"SGD": 2, "THB": 2, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2, "ZAR": 2,
	"MMK": 2, "KHR": 2, "LAK": 2, "BND": 2,
	// Three digits.
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// Four digits (Chilean unidad de fomento, used for indexed amounts).
	"CLF": 4,
}

// LookupCurrency returns the Currency for an ISO 4217 code. The code must be
// upper case and known to the gateway; anything else is an EINVALID error.
func LookupCurrency(code string) (Currency, error) {
	if code == "" {
		return "", Invalid("currency", "required", "currency is required")
	}
	c := Currency(code)
	if _, ok := currencyExponents[c]; !ok {
		return "", Invalid("currency", "unknown_currency", "unknown ISO 4217 currency code "+quote(code))
	}
	return c, nil
}

// Exponent returns the number of minor-unit digits of c (2 for MYR, 0 for
// KRW), or -1 for a currency the gateway does not know.
func (c Currency) Exponent() int {
	e, ok := currencyExponents[c]
	if !ok {
		return -1
	}
	return e
}

// Valid reports whether c is a known currency.
func (c Currency) Valid() bool {
	_, ok := currencyExponents[c]
	return ok
}

// String returns the ISO 4217 code.
func (c Currency) String() string { return string(c) }

// pow10 holds 10^0 … 10^18, every power of ten that fits in an int64.
var pow10 = [...]int64{
	1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
	1_000_000_000, 10_000_000_000, 100_000_000_000, 1_000_000_000_000,
	10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
	10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
}

// quote returns s in double quotes, truncated so an error message stays short.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
}
