package books

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/gateway/postgres"
	"github.com/coverbridge/coverbridge/reconciliation/rfref"
	"github.com/coverbridge/coverbridge/reconciliation/statement"
)

// maxAdviceRef is the longest advice id a platform may give.
const maxAdviceRef = 200

// SubmitAdvice stores a platform's remittance advice. ref is the
// platform's own id of it: the same ref and content again returns the
// stored advice (Created false); the same ref with other content is
// ECONFLICT. An RF reference is kept in electronic format so it matches
// the statement's; a scheme may be named by id or code and is kept by id.
//
// Errors: EINVALID naming the field (lines by index) for a malformed
// advice: no payment reference, value date or amount; lines in another
// currency, negative, with a worker twice or not adding up to the amount;
// a scheme without a period or an unknown one.
func (k *Keeper) SubmitAdvice(ctx context.Context, ref string, a statement.Advice) (postgres.StoredAdvice, error) {
	if strings.TrimSpace(ref) == "" || len(ref) > maxAdviceRef {
		return postgres.StoredAdvice{}, gateway.Invalid("advice_id", "required", "advice_id of 1 to 200 characters is required")
	}
	n, err := k.newAdvice(ref, postgres.AdviceFromAPI, a)
	if err != nil {
		return postgres.StoredAdvice{}, err
	}
	stored, err := k.store.StoreAdvices(ctx, []postgres.NewAdvice{n}, k.now())
	if err != nil {
		return postgres.StoredAdvice{}, err
	}
	return stored[0], nil
}

// ImportAdviceCSV reads a platform's remittance advice file (the format of
// statement.ParseAdviceCSV) and stores every advice in it, in one
// transaction, or none. Each advice's id is derived from the file's digest
// and its place in the file, so the same file again stores nothing.
func (k *Keeper) ImportAdviceCSV(ctx context.Context, platformID string, r io.Reader) ([]postgres.StoredAdvice, error) {
	h := sha256.New()
	advs, err := statement.ParseAdviceCSV(io.TeeReader(r, h), platformID, statement.CSVConfig{})
	if err != nil {
		return nil, err
	}
	digest := hex.EncodeToString(h.Sum(nil))[:24]
	news := make([]postgres.NewAdvice, len(advs))
	for i, a := range advs {
		n, err := k.newAdvice(fmt.Sprintf("csv-%s-%d", digest, i+1), postgres.AdviceFromCSV, a)
		if err != nil {
			if ge, ok := err.(*gateway.Error); ok && a.Line > 0 {
				for j := range ge.Details {
					if ge.Details[j].Line == 0 {
						ge.Details[j].Line = a.Line
					}
				}
			}
			return nil, err
		}
		news[i] = n
	}
	return k.store.StoreAdvices(ctx, news, k.now())
}

// newAdvice checks an advice and gives it its canonical form and hash.
func (k *Keeper) newAdvice(ref, source string, a statement.Advice) (postgres.NewAdvice, error) {
	var details []gateway.Detail
	bad := func(field, code, format string, args ...any) {
		details = append(details, gateway.Detail{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	a.PaymentReference = strings.TrimSpace(a.PaymentReference)
	switch {
	case a.PaymentReference == "":
		bad("payment_reference", "required", "payment_reference is required")
	case len(a.PaymentReference) > 140:
		bad("payment_reference", "too_long", "payment_reference is at most 140 characters")
	default:
		if norm, err := rfref.Normalize(a.PaymentReference); err == nil {
			a.PaymentReference = norm
		}
	}
	if !a.Amount.Currency.Valid() {
		bad("amount.currency", "unknown_currency", "amount needs a known ISO 4217 currency")
	}
	if a.Amount.Amount < 0 {
		bad("amount.value", "negative", "amount cannot be negative")
	}
	if a.ValueDate.IsZero() {
		bad("value_date", "required", "value_date is required")
	}
	switch {
	case a.Scheme == "" && a.Period == "":
	case a.Scheme == "" || a.Period == "":
		bad("period", "incomplete", "scheme and period go together")
	default:
		id := a.Scheme
		if s, ok := k.byCode[strings.ToUpper(a.Scheme)]; ok {
			id = s.id
		}
		gs, err := k.cfg.Catalog.Scheme(id)
		if err != nil {
			bad("scheme", "unknown_scheme", "no scheme %q", a.Scheme)
			break
		}
		a.Scheme = id
		if _, err := parsePeriod(gs, a.Period); err != nil {
			bad("period", "malformed", "%q is not a period of %s", a.Period, id)
		}
	}
	var sum int64
	seen := make(map[string]bool, len(a.Lines))
	for i, l := range a.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		switch {
		case l.WorkerKey == "":
			bad(field+".worker_key", "required", "worker_key is required")
		case seen[l.WorkerKey]:
			bad(field+".worker_key", "duplicate", "worker %s appears twice", l.WorkerKey)
		case l.Amount.Currency != a.Amount.Currency:
			bad(field+".amount.currency", "currency_mismatch", "lines are in the advice's currency")
		case l.Amount.Amount < 0:
			bad(field+".amount.value", "negative", "amount cannot be negative")
		}
		seen[l.WorkerKey] = true
		sum += l.Amount.Amount
		if len(details) > 20 {
			break
		}
	}
	if len(a.Lines) > 0 && len(details) == 0 && sum != a.Amount.Amount {
		bad("amount", "lines_total", "the lines add up to %s, not %s", gateway.Money{Amount: sum, Currency: a.Amount.Currency}, a.Amount)
	}
	if len(details) > 0 {
		return postgres.NewAdvice{}, &gateway.Error{Code: gateway.EINVALID, Message: "invalid remittance advice", Details: details}
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	if err := enc.Encode([]any{a.Platform, ref, a.PaymentReference, a.Amount, a.ValueDate.String(), a.Scheme, a.Period}); err != nil {
		return postgres.NewAdvice{}, err
	}
	for _, l := range a.Lines {
		if err := enc.Encode([]any{l.WorkerKey, l.Amount.Amount}); err != nil {
			return postgres.NewAdvice{}, err
		}
	}
	return postgres.NewAdvice{Ref: ref, Source: source, Advice: a, Hash: [32]byte(h.Sum(nil))}, nil
}
