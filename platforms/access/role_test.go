package access

import (
	"testing"

	"github.com/coverbridge/coverbridge/gateway"
)

// TestCan spells out the whole permission table: every role against every
// action.
func TestCan(t *testing.T) {
	want := map[Role][]Action{
		RolePlatform:   {EarningsWrite, EarningsRead, WorkersWrite, WorkersRead, StatementsRead},
		RoleFinance:    {StatementsRead, ReconciliationRead, ReconciliationWrite},
		RoleCompliance: {GapsRead, GapsWrite},
		RoleAdmin:      Actions(),
	}
	for _, role := range Roles() {
		p := Principal{KeyID: "k", Role: role}
		if role == RolePlatform {
			p.PlatformID = "demo"
		}
		allowed := map[Action]bool{}
		for _, a := range want[role] {
			allowed[a] = true
		}
		for _, a := range Actions() {
			if got := p.Can(a); got != allowed[a] {
				t.Errorf("%s Can(%s) = %v, want %v", role, a, got, allowed[a])
			}
		}
	}
}

func TestPlatformKeysReachNoStaffAction(t *testing.T) {
	p := Principal{KeyID: "k", PlatformID: "demo", Role: RolePlatform}
	for _, a := range []Action{ReconciliationRead, ReconciliationWrite, GapsRead, GapsWrite, PlatformsManage, KeysManage} {
		if err := p.Authorize(a, "demo"); gateway.ErrorCode(err) != gateway.EFORBIDDEN {
			t.Errorf("platform Authorize(%s, own platform) = %v, want forbidden", a, err)
		}
	}
}

func TestAuthorize(t *testing.T) {
	demo := Principal{KeyID: "k1", PlatformID: "demo", Role: RolePlatform}
	tests := []struct {
		name     string
		p        Principal
		action   Action
		platform string
		code     string // "" for allowed
	}{
		{"platform reads own events", demo, EarningsRead, "demo", ""},
		{"platform writes own events", demo, EarningsWrite, "demo", ""},
		{"platform reads own statements", demo, StatementsRead, "demo", ""},
		{"platform reads another's events", demo, EarningsRead, "other", gateway.ENOTFOUND},
		{"platform writes another's workers", demo, WorkersWrite, "other", gateway.ENOTFOUND},
		{"platform reads another's statements", demo, StatementsRead, "other", gateway.ENOTFOUND},
		{"platform lists all platforms", demo, EarningsRead, "", gateway.ENOTFOUND},
		{"platform reads gaps", demo, GapsRead, "demo", gateway.EFORBIDDEN},
		{"platform reconciles", demo, ReconciliationWrite, "demo", gateway.EFORBIDDEN},
		{"platform issues keys", demo, KeysManage, "demo", gateway.EFORBIDDEN},
		{"platform key without platform", Principal{KeyID: "k", Role: RolePlatform}, EarningsRead, "", gateway.EFORBIDDEN},
		{"finance reads any platform's statements", Principal{KeyID: "f", Role: RoleFinance}, StatementsRead, "other", ""},
		{"finance reads every platform's statements", Principal{KeyID: "f", Role: RoleFinance}, StatementsRead, "", ""},
		{"finance posts events", Principal{KeyID: "f", Role: RoleFinance}, EarningsWrite, "demo", gateway.EFORBIDDEN},
		{"finance reads gaps", Principal{KeyID: "f", Role: RoleFinance}, GapsRead, "", gateway.EFORBIDDEN},
		{"compliance reads gaps", Principal{KeyID: "c", Role: RoleCompliance}, GapsRead, "", ""},
		{"compliance reads statements", Principal{KeyID: "c", Role: RoleCompliance}, StatementsRead, "demo", gateway.EFORBIDDEN},
		{"admin manages keys", Principal{KeyID: "a", Role: RoleAdmin}, KeysManage, "demo", ""},
		{"admin reads gaps", Principal{KeyID: "a", Role: RoleAdmin}, GapsRead, "", ""},
		{"admin with an unknown action", Principal{KeyID: "a", Role: RoleAdmin}, Action("future:thing"), "", ""},
		{"unknown role", Principal{KeyID: "x", Role: "auditor"}, StatementsRead, "", gateway.EFORBIDDEN},
		{"zero principal", Principal{}, EarningsRead, "", gateway.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Authorize(tt.action, tt.platform)
			if got := gateway.ErrorCode(err); got != tt.code {
				t.Errorf("Authorize(%s, %q) = %v, want code %q", tt.action, tt.platform, err, tt.code)
			}
			if tt.code == gateway.ENOTFOUND && gateway.ErrorMessage(err) != "not found" {
				t.Errorf("not found message %q says more than not found", gateway.ErrorMessage(err))
			}
		})
	}
}

func TestScope(t *testing.T) {
	tests := []struct {
		p        Principal
		platform string
		all      bool
	}{
		{Principal{Role: RolePlatform, PlatformID: "demo"}, "demo", false},
		{Principal{Role: RolePlatform}, "", false},
		{Principal{Role: RoleFinance}, "", true},
		{Principal{Role: RoleCompliance}, "", true},
		{Principal{Role: RoleAdmin}, "", true},
		{Principal{Role: "auditor", PlatformID: "demo"}, "demo", false},
	}
	for _, tt := range tests {
		if p, all := tt.p.Scope(); p != tt.platform || all != tt.all {
			t.Errorf("%+v Scope() = %q %v, want %q %v", tt.p, p, all, tt.platform, tt.all)
		}
	}
}

func TestKeyPrincipal(t *testing.T) {
	k := Key{ID: "abcdefgh", Role: RolePlatform, PlatformID: "demo"}
	if p := k.Principal(); p != (Principal{KeyID: "abcdefgh", PlatformID: "demo", Role: RolePlatform}) {
		t.Errorf("Principal() = %+v", p)
	}
}
