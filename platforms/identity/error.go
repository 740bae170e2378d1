package identity

import "github.com/coverbridge/coverbridge/gateway"

// Field is the input field named in every validation error.
const Field = "national_id"

// Detail codes of the validation errors. Every error returned by Normalize or
// Validate is a *gateway.Error with code gateway.EINVALID and one Detail whose
// Field is Field and whose Code is one of these.
const (
	CodeRequired           = "required"            // nothing left after removing separators
	CodeUnsupportedCountry = "unsupported_country" // country is not one of Countries()
	CodeBadLength          = "bad_length"          // wrong number of characters
	CodeBadCharacters      = "bad_characters"      // a character that the number cannot hold at that position
	CodeBadPrefix          = "bad_prefix"          // leading character outside the issued series (Aadhaar 0 or 1, NRIC/FIN letter)
	CodeBadCheckDigit      = "bad_check_digit"     // check digit or letter does not match
	CodeBadBirthDate       = "bad_birth_date"      // encoded birth date is not a calendar date
	CodeBadPlaceCode       = "bad_place_code"      // region or place-of-birth code that was never issued
)

// invalid builds the error for one failure. Messages are fixed strings per
// scheme: they never include the number, any part of it, or the country
// value as given, so they are safe to log and to return to a platform.
func invalid(code, message string) error {
	return gateway.Invalid(Field, code, message)
}
