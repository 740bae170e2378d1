package identity

// South Korea: resident registration number (RRN, 주민등록번호), 13 digits.
//
//	YYMMDD S ######
//
// YYMMDD is the birth date and S gives sex and century: 9 and 0 for the
// 1800s, 1 and 2 for the 1900s, 3 and 4 for the 2000s, and 5 to 8 for the
// foreigner registration numbers that share the layout (5, 6: 1900s; 7, 8:
// 2000s).
//
// Numbers issued before 5 October 2020 end with a mod-11 check digit over the
// first twelve. Numbers issued since then carry six random digits after S and
// no check digit. The issue date is not in the number, so the rule is:
//
//   - if the check digit matches, the number is accepted;
//   - if it does not, the number is accepted only when the birth date is on
//     or after 2020-10-01, because only then could it have been issued
//     under the new rules; otherwise it is rejected with CodeBadCheckDigit.
//
// The rule is deliberately conservative. A person born before October 2020
// who received a new number since (naturalisation, or a number changed after
// misuse) holds a valid number that fails the check nine times in ten; such a
// number is rejected.
var korea = scheme{
	check:         checkKorea,
	badCharacters: koreaBadCharacters,
	badLength:     koreaBadLength,
}

const (
	koreaBadCharacters = "a Korean resident registration number holds only digits"
	koreaBadLength     = "a Korean resident registration number has 13 digits"
)

var koreaWeights = [12]int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5}

// koreaCentury maps the seventh digit to the century of birth.
var koreaCentury = [10]int{1800, 1900, 1900, 2000, 2000, 1900, 1900, 2000, 2000, 1800}

func checkKorea(id string) (string, error) {
	if !allDigits(id) {
		return "", invalid(CodeBadCharacters, koreaBadCharacters)
	}
	if len(id) != 13 {
		return "", invalid(CodeBadLength, koreaBadLength)
	}
	y := koreaCentury[id[6]-'0'] + atoi(id[0:2])
	m, d := atoi(id[2:4]), atoi(id[4:6])
	if !validDate(y, m, d) {
		return "", invalid(CodeBadBirthDate, "the birth date in a Korean resident registration number is not a valid date")
	}
	if id[12] != koreaCheck(id[:12]) && !koreaRandomEra(y, m) {
		return "", invalid(CodeBadCheckDigit, "the check digit of a Korean resident registration number does not match")
	}
	return id, nil
}

// koreaRandomEra reports whether a person born in year y, month m may hold a
// number issued without a check digit: born on or after 2020-10-01.
func koreaRandomEra(y, m int) bool {
	return y > 2020 || (y == 2020 && m >= 10)
}

func koreaCheck(body string) byte {
	sum := 0
	for i := 0; i < 12; i++ {
		sum += int(body[i]-'0') * koreaWeights[i]
	}
	return byte('0' + (11-sum%11)%10)
}
