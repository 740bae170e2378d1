package identity

import "strings"

// Chile: RUT/RUN (Rol Único Tributario / Nacional), written 12.345.678-5:
// a body of 7 or 8 digits and a mod-11 check character, "K" standing for 10.
// The body digits, from the right, are weighted 2, 3, 4, 5, 6, 7, 2, 3;
// the check is 11 − (sum mod 11), with 11 written as 0 and 10 as K.
//
// The canonical form is the body without leading zeros followed by the check
// character, with no dots or dash: 123456785.
var chile = scheme{
	check:         checkChile,
	badCharacters: chileBadCharacters,
	badLength:     chileBadLength,
}

const (
	chileBadCharacters = "a Chilean RUT holds only digits, with K allowed as the check character"
	chileBadLength     = "a Chilean RUT has 7 or 8 digits followed by a check character"
)

func checkChile(id string) (string, error) {
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && c != 'K' {
			return "", invalid(CodeBadCharacters, chileBadCharacters)
		}
	}
	body, check := strings.TrimLeft(id[:len(id)-1], "0"), id[len(id)-1]
	if len(body) < 7 || len(body) > 8 {
		return "", invalid(CodeBadLength, chileBadLength)
	}
	if !allDigits(body) {
		return "", invalid(CodeBadCharacters, chileBadCharacters)
	}
	if check != chileCheck(body) {
		return "", invalid(CodeBadCheckDigit, "the check character of a Chilean RUT does not match")
	}
	return body + string(check), nil
}

func chileCheck(body string) byte {
	sum, w := 0, 2
	for i := len(body) - 1; i >= 0; i-- {
		sum += int(body[i]-'0') * w
		if w++; w > 7 {
			w = 2
		}
	}
	switch v := 11 - sum%11; v {
	case 11:
		return '0'
	case 10:
		return 'K'
	default:
		return byte('0' + v)
	}
}
