package identity

// India: Aadhaar number, 12 digits issued by UIDAI. The first digit is never
// 0 or 1 and the last is a Verhoeff check digit over the other eleven.
var india = scheme{
	check:         checkIndia,
	badCharacters: indiaBadCharacters,
	badLength:     indiaBadLength,
}

const (
	indiaBadCharacters = "an Aadhaar number holds only digits"
	indiaBadLength     = "an Aadhaar number has 12 digits"
)

func checkIndia(id string) (string, error) {
	if !allDigits(id) {
		return "", invalid(CodeBadCharacters, indiaBadCharacters)
	}
	if len(id) != 12 {
		return "", invalid(CodeBadLength, indiaBadLength)
	}
	if id[0] < '2' {
		return "", invalid(CodeBadPrefix, "an Aadhaar number never starts with 0 or 1")
	}
	if !verhoeffValid(id) {
		return "", invalid(CodeBadCheckDigit, "the check digit of an Aadhaar number does not match")
	}
	return id, nil
}

// Verhoeff tables: multiplication in the dihedral group D5, and the
// position permutation.
var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
)

// verhoeffValid reports whether a string of digits, check digit last,
// passes the Verhoeff check.
func verhoeffValid(s string) bool {
	var c byte
	for i := 0; i < len(s); i++ {
		digit := s[len(s)-1-i] - '0'
		c = verhoeffD[c][verhoeffP[i%8][digit]]
	}
	return c == 0
}
