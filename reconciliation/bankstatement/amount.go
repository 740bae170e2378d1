package bankstatement

import (
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
)

// parseAmount reads a non-negative decimal amount exactly. Trailing zeros
// beyond the currency's minor unit are accepted ("150000.00" KRW is 150000
// won); any other fraction the currency cannot hold is an error, never
// rounded.
func parseAmount(ccy, value string) (gateway.Money, string, bool) {
	v := strings.TrimSpace(value)
	if v == "" {
		return gateway.Money{}, "amount is empty", false
	}
	c, err := gateway.LookupCurrency(ccy)
	if err != nil {
		return gateway.Money{}, "unknown currency " + quote(ccy), false
	}
	if strings.HasPrefix(v, "-") {
		return gateway.Money{}, "amount " + quote(v) + " is negative; the direction is given by CdtDbtInd", false
	}
	if i := strings.IndexByte(v, '.'); i >= 0 {
		keep := i + 1 + max(c.Exponent(), 0)
		for len(v) > keep && v[len(v)-1] == '0' {
			v = v[:len(v)-1]
		}
		if v[len(v)-1] == '.' && len(v) > 1 {
			v = v[:len(v)-1]
		}
	}
	m, err := gateway.ParseMoney(string(c), v)
	if err != nil {
		return gateway.Money{}, "amount " + quote(strings.TrimSpace(value)) + " is not an exact " + string(c) + " amount: " + detailMessage(err), false
	}
	return m, "", true
}

func detailMessage(err error) string {
	if e, ok := err.(*gateway.Error); ok && len(e.Details) > 0 {
		return e.Details[0].Message
	}
	return gateway.ErrorMessage(err)
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + s + `"`
}

// checkBalance verifies opening + credits - debits = closing and returns the
// message with the numbers when it does not hold.
func checkBalance(s *Statement) (string, bool) {
	if s.Opening == nil || s.Closing == nil {
		return "", true
	}
	sum, err := s.Opening.Amount.Add(s.Credits)
	if err == nil {
		sum, err = sum.Sub(s.Debits)
	}
	if err != nil {
		return "balance arithmetic overflows: " + gateway.ErrorMessage(err), false
	}
	if sum == s.Closing.Amount {
		return "", true
	}
	diff, _ := s.Closing.Amount.Sub(sum)
	c := s.Currency
	return "opening balance " + s.Opening.Amount.String() + " + credits " + s.Credits.String() +
		" - debits " + s.Debits.String() + " = " + sum.String() + " " + string(c) +
		", but the closing balance is " + s.Closing.Amount.String() + " " + string(c) +
		" (difference " + diff.String() + ")", false
}

// addBooked adds a booked receipt to the statement's totals.
func addBooked(s *Statement, amt gateway.Money, dir Direction) error {
	var err error
	if dir == Credit {
		s.Credits, err = s.Credits.Add(amt)
	} else {
		s.Debits, err = s.Debits.Add(amt)
	}
	return err
}
