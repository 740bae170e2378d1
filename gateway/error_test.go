package gateway

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorCode(t *testing.T) {
	wrapped := fmt.Errorf("record batch 3: %w", Errorf(ECONFLICT, "event %q differs", "e1"))
	tests := []struct {
		err  error
		code string
		msg  string
	}{
		{nil, "", ""},
		{errors.New("boom"), EINTERNAL, "internal error"},
		{wrapped, ECONFLICT, `event "e1" differs`},
		{Invalid("gross.value", "required", "is required"), EINVALID, "invalid input"},
	}
	for _, tt := range tests {
		if got := ErrorCode(tt.err); got != tt.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := ErrorMessage(tt.err); got != tt.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.msg)
		}
	}
}
