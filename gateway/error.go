package gateway

import (
	"errors"
	"fmt"
)

// Error codes. Every error that reaches a user carries one of them; the HTTP
// adapter maps each code to one status.
const (
	EINVALID             = "invalid"
	ENOTFOUND            = "not_found"
	ECONFLICT            = "conflict"
	EUNAUTHORIZED        = "unauthorized"
	EFORBIDDEN           = "forbidden"
	EIDEMPOTENCYMISMATCH = "idempotency_mismatch"
	ETOOLARGE            = "too_large"
	EUNSUPPORTED         = "unsupported_media_type"
	ERATELIMITED         = "rate_limited"
	EINTERNAL            = "internal"
)

// Error is the one domain error type: a machine code, a human message and,
// where the error is about input, the fields or lines at fault.
type Error struct {
	Code    string
	Message string
	Details []Detail
}

// Detail names one place in the input that is wrong.
type Detail struct {
	Field   string `json:"field,omitempty"` // JSON path, CSV column or XML element
	Line    int    `json:"line,omitempty"`  // 1-based line in a file, when known
	Code    string `json:"code,omitempty"`  // finer code, e.g. "required", "too_many_decimals"
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	d := e.Details[0]
	where := d.Field
	if d.Line > 0 {
		where = fmt.Sprintf("line %d %s", d.Line, d.Field)
	}
	return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, where, d.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming one field.
func Invalid(field, code, message string) *Error {
	return &Error{Code: EINVALID, Message: "invalid input", Details: []Detail{{Field: field, Code: code, Message: message}}}
}

// ErrorCode returns the code of err, EINTERNAL for errors that are not *Error
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the human message of err; errors that are not *Error
// get a generic message so internals never leak to a user.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
