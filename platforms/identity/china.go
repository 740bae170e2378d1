package identity

// China: resident identity card number (GB 11643-1999), 18 characters.
//
//	RRRRRR YYYYMMDD SSS C
//
// R is the administrative division code of the place of household
// registration (GB/T 2260), YYYYMMDD the birth date, S a sequence number and
// C an ISO 7064 MOD 11-2 check character over the first 17 digits, "X"
// standing for 10.
//
// The place check is at province level: the first two digits must be a
// GB/T 2260 province code, including 71 (Taiwan) and the 81, 82 and 83 codes
// of the residence permits for Hong Kong, Macao and Taiwan residents. The
// 2023 Foreign Permanent Resident ID Card follows the same layout and check
// with a leading 9 followed by the two-digit province code of the issuing
// office; it is accepted too, since foreign permanent residents may work on
// Chinese platforms. County codes are not checked: they change every year and
// a number keeps the code that was current when it was issued.
var china = scheme{
	check:         checkChina,
	badCharacters: chinaBadCharacters,
	badLength:     chinaBadLength,
}

const (
	chinaBadCharacters = "a Chinese resident ID holds only digits, with X allowed as the last character"
	chinaBadLength     = "a Chinese resident ID has 18 characters"
)

// chinaProvinces lists the GB/T 2260 province-level codes.
var chinaProvinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true, // North
	"21": true, "22": true, "23": true, // North-east
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true, // East
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true, // Central south
	"50": true, "51": true, "52": true, "53": true, "54": true, // South-west
	"61": true, "62": true, "63": true, "64": true, "65": true, // North-west
	"71": true,                         // Taiwan
	"81": true, "82": true, "83": true, // Hong Kong, Macao, Taiwan residence permits
}

// chinaWeights are 2^(17-i) mod 11 for positions i = 0..16.
var chinaWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

func checkChina(id string) (string, error) {
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && c != 'X' {
			return "", invalid(CodeBadCharacters, chinaBadCharacters)
		}
	}
	if len(id) != 18 {
		return "", invalid(CodeBadLength, chinaBadLength)
	}
	if !allDigits(id[:17]) {
		return "", invalid(CodeBadCharacters, chinaBadCharacters)
	}
	if !chinaPlausiblePlace(id[:3]) {
		return "", invalid(CodeBadPlaceCode, "the region code of a Chinese resident ID does not start with a province code")
	}
	if !validDate(atoi(id[6:10]), atoi(id[10:12]), atoi(id[12:14])) {
		return "", invalid(CodeBadBirthDate, "the birth date in a Chinese resident ID is not a valid date")
	}
	if id[17] != chinaCheck(id[:17]) {
		return "", invalid(CodeBadCheckDigit, "the check character of a Chinese resident ID does not match")
	}
	return id, nil
}

// chinaPlausiblePlace checks the first three digits: a province code, or 9
// (foreign permanent resident) followed by a mainland province code.
func chinaPlausiblePlace(p string) bool {
	if p[0] == '9' {
		return chinaProvinces[p[1:3]] && p[1] <= '6'
	}
	return chinaProvinces[p[:2]]
}

// chinaCheck computes the ISO 7064 MOD 11-2 check character of 17 digits.
func chinaCheck(body string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * chinaWeights[i]
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}
