package identity

// Belgium: social security identification number (NISS/INSZ), 11 digits.
// It is either the national register number or, for people not in the
// register, a bis number of the Crossroads Bank for Social Security.
//
//	YYMMDD SSS CC
//
// YYMMDD is the birth date, SSS a sequence number (odd for men, even for
// women) and CC = 97 − (YYMMDDSSS mod 97). For births from 2000 on the check
// is computed over the nine digits prefixed with "2" (2YYMMDDSSS); the
// century is the one whose check matches.
//
// Bis numbers add 20 (sex unknown when issued) or 40 (sex known) to the
// month. The register also issues numbers whose birth date is partly or
// wholly unknown, or whose day counter ran out: a month of 00 stands for an
// unknown month and day, and a day of 00 or past the end of the month for an
// unknown day (the fictitious dates 00-00-01 are covered by this). So the
// birth date check is on the month only: 0-12, 20-32 or 40-52.
var belgium = scheme{
	check:         checkBelgium,
	badCharacters: belgiumBadCharacters,
	badLength:     belgiumBadLength,
}

const (
	belgiumBadCharacters = "a Belgian NISS holds only digits"
	belgiumBadLength     = "a Belgian NISS has 11 digits"
)

func checkBelgium(id string) (string, error) {
	if !allDigits(id) {
		return "", invalid(CodeBadCharacters, belgiumBadCharacters)
	}
	if len(id) != 11 {
		return "", invalid(CodeBadLength, belgiumBadLength)
	}
	switch m := atoi(id[2:4]); {
	case m <= 12, m >= 20 && m <= 32, m >= 40 && m <= 52:
	default:
		return "", invalid(CodeBadBirthDate, "the birth month in a Belgian NISS is not valid")
	}
	body, check := atoi(id[:9]), atoi(id[9:])
	if 97-body%97 != check && 97-(2_000_000_000+body)%97 != check {
		return "", invalid(CodeBadCheckDigit, "the check digits of a Belgian NISS do not match")
	}
	return id, nil
}
