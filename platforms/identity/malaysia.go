package identity

// Malaysia: MyKad identity card number (NRIC), 12 digits, no check digit.
//
//	YYMMDD PB ###G
//
// YYMMDD is the birth date, PB the place of birth: a state code, or a
// country code for those born abroad, from the National Registration
// Department (JPN) table. The century is not encoded: the date must be valid
// in the 1900s or the 2000s.
var malaysia = scheme{
	check:         checkMalaysia,
	badCharacters: malaysiaBadCharacters,
	badLength:     malaysiaBadLength,
}

const (
	malaysiaBadCharacters = "a Malaysian NRIC holds only digits"
	malaysiaBadLength     = "a Malaysian NRIC has 12 digits"
)

// malaysiaPlaces lists the place-of-birth codes in the JPN table: states and
// federal territories (01-16, 21-59, and 82 for an unknown state) and
// countries or regions of birth abroad (60-68, 71-72, 74-79, 83-93, 98-99).
var malaysiaPlaces = func() [100]bool {
	var p [100]bool
	for _, r := range [][2]int{{1, 16}, {21, 59}, {60, 68}, {71, 72}, {74, 79}, {82, 93}, {98, 99}} {
		for c := r[0]; c <= r[1]; c++ {
			p[c] = true
		}
	}
	return p
}()

func checkMalaysia(id string) (string, error) {
	if !allDigits(id) {
		return "", invalid(CodeBadCharacters, malaysiaBadCharacters)
	}
	if len(id) != 12 {
		return "", invalid(CodeBadLength, malaysiaBadLength)
	}
	yy, mm, dd := atoi(id[0:2]), atoi(id[2:4]), atoi(id[4:6])
	if !validDate(1900+yy, mm, dd) && !validDate(2000+yy, mm, dd) {
		return "", invalid(CodeBadBirthDate, "the birth date in a Malaysian NRIC is not a valid date")
	}
	if !malaysiaPlaces[atoi(id[6:8])] {
		return "", invalid(CodeBadPlaceCode, "the place-of-birth code in a Malaysian NRIC is not in the JPN table")
	}
	return id, nil
}
