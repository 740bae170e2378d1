package identity

// Singapore: NRIC or FIN, 9 characters.
//
//	P ####### C
//
// P is the series: S and T (citizens and permanent residents, born before
// 2000 and from 2000), F and G (foreigners, issued before 2000 and from
// 2000), M (foreigners, issued from 2022). C is a check letter: the seven
// digits are weighted 2, 7, 6, 5, 4, 3, 2 and summed, 4 is added for T and G
// and 3 for M, and the sum mod 11 picks the letter from the series' table.
var singapore = scheme{
	check:         checkSingapore,
	badCharacters: singaporeBadCharacters,
	badLength:     singaporeBadLength,
}

const (
	singaporeBadCharacters = "an NRIC or FIN is a letter, seven digits and a check letter"
	singaporeBadLength     = "an NRIC or FIN has 9 characters"
)

var singaporeWeights = [7]int{2, 7, 6, 5, 4, 3, 2}

// singaporeSeries gives, for each series letter, the offset added to the
// weighted sum and the check letters indexed by the sum mod 11.
var singaporeSeries = map[byte]struct {
	offset  int
	letters string
}{
	'S': {0, "JZIHGFEDCBA"},
	'T': {4, "JZIHGFEDCBA"},
	'F': {0, "XWUTRQPNMLK"},
	'G': {4, "XWUTRQPNMLK"},
	'M': {3, "XWUTRQPNJLK"},
}

func checkSingapore(id string) (string, error) {
	if len(id) != 9 {
		return "", invalid(CodeBadLength, singaporeBadLength)
	}
	series, ok := singaporeSeries[id[0]]
	if !ok {
		return "", invalid(CodeBadPrefix, "an NRIC or FIN starts with S, T, F, G or M")
	}
	if !allDigits(id[1:8]) || id[8] < 'A' || id[8] > 'Z' {
		return "", invalid(CodeBadCharacters, singaporeBadCharacters)
	}
	sum := series.offset
	for i := 0; i < 7; i++ {
		sum += int(id[1+i]-'0') * singaporeWeights[i]
	}
	if id[8] != series.letters[sum%11] {
		return "", invalid(CodeBadCheckDigit, "the check letter of an NRIC or FIN does not match")
	}
	return id, nil
}
