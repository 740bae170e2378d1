package identity

import "testing"

// Published Verhoeff vectors (the algorithm's literature and python-stdnum).
func TestVerhoeff(t *testing.T) {
	tests := []struct {
		s     string
		valid bool
	}{
		{"1428570", true},
		{"6548", true},
		{"2363", true},
		{"123451", true},
		{"1234567890120", true},
		{"3984382462386423786482364872364827347", true},
		{"654", false},
		{"2369", false},
		{"123459", false},
		{"1234567890129", false},
		{"398438246238642378648236487236482734", false},
	}
	for _, tt := range tests {
		if got := verhoeffValid(tt.s); got != tt.valid {
			t.Errorf("verhoeffValid(%q) = %v, want %v", tt.s, got, tt.valid)
		}
	}
}

func TestChinaCheck(t *testing.T) {
	for body, want := range map[string]byte{
		"36042619910101007": '1',
		"44011320141005001": 'X',
		"11010519491231002": 'X', // GB 11643-1999 annex example
	} {
		if got := chinaCheck(body); got != want {
			t.Errorf("chinaCheck(%q) = %c, want %c", body, got, want)
		}
	}
}

func TestChileCheck(t *testing.T) {
	for body, want := range map[string]byte{
		"76086428": '5',
		"12531909": '2',
		"10000013": 'K',
		"20000011": '0',
	} {
		if got := chileCheck(body); got != want {
			t.Errorf("chileCheck(%q) = %c, want %c", body, got, want)
		}
	}
}

func TestValidDate(t *testing.T) {
	tests := []struct {
		y, m, d int
		ok      bool
	}{
		{2000, 2, 29, true},
		{1900, 2, 29, false},
		{2024, 2, 29, true},
		{2023, 2, 29, false},
		{2023, 4, 31, false},
		{2023, 12, 31, true},
		{2023, 0, 1, false},
		{2023, 1, 0, false},
		{1799, 12, 31, false},
		{1800, 1, 1, true},
		{2099, 12, 31, true},
		{2100, 1, 1, false},
	}
	for _, tt := range tests {
		if got := validDate(tt.y, tt.m, tt.d); got != tt.ok {
			t.Errorf("validDate(%d, %d, %d) = %v, want %v", tt.y, tt.m, tt.d, got, tt.ok)
		}
	}
}
