package access

import (
	"fmt"

	"github.com/coverbridge/coverbridge/gateway"
)

// Role is what a key may do.
type Role string

// Roles.
const (
	// RolePlatform is a platform's own key: its events, workers, rejections
	// and statements, nothing of other platforms, no staff functions.
	RolePlatform Role = "platform"
	// RoleFinance is the insurer's finance staff: every platform's
	// statements, payments and reconciliation.
	RoleFinance Role = "finance"
	// RoleCompliance is the insurer's compliance staff: compliance gaps
	// across platforms.
	RoleCompliance Role = "compliance"
	// RoleAdmin is an operator: everything.
	RoleAdmin Role = "admin"
)

// Roles returns every role.
func Roles() []Role { return []Role{RolePlatform, RoleFinance, RoleCompliance, RoleAdmin} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RolePlatform, RoleFinance, RoleCompliance, RoleAdmin:
		return true
	default:
		return false
	}
}

// Action is something a request does.
type Action string

// Actions, one per group of endpoints.
const (
	EarningsWrite       Action = "earnings:write"       // post events, upload CSV
	EarningsRead        Action = "earnings:read"        // events and rejections
	WorkersWrite        Action = "workers:write"        // register, change, terminate
	WorkersRead         Action = "workers:read"         // registrations and contributions
	StatementsRead      Action = "statements:read"      // contribution statements
	ReconciliationRead  Action = "reconciliation:read"  // payments and matches
	ReconciliationWrite Action = "reconciliation:write" // record payments, match, write off
	GapsRead            Action = "gaps:read"            // compliance gaps
	GapsWrite           Action = "gaps:write"           // resolve compliance gaps
	PlatformsManage     Action = "platforms:manage"     // create and change platforms
	KeysManage          Action = "keys:manage"          // issue, rotate, revoke keys
)

// Actions returns every action.
func Actions() []Action {
	return []Action{EarningsWrite, EarningsRead, WorkersWrite, WorkersRead, StatementsRead,
		ReconciliationRead, ReconciliationWrite, GapsRead, GapsWrite, PlatformsManage, KeysManage}
}

// grants is the whole permission table. Admin is not listed: it may do
// everything.
var grants = map[Role]map[Action]bool{
	RolePlatform: {
		EarningsWrite: true, EarningsRead: true,
		WorkersWrite: true, WorkersRead: true,
		StatementsRead: true,
	},
	RoleFinance: {
		StatementsRead:     true,
		ReconciliationRead: true, ReconciliationWrite: true,
	},
	RoleCompliance: {
		GapsRead: true, GapsWrite: true,
	},
}

// Principal is who a request acts as.
type Principal struct {
	KeyID      string
	PlatformID string // the platform of a platform key; "" for staff
	Role       Role
}

// Can reports whether the principal's role allows the action, on some
// platform's data. A platform key without a platform can do nothing.
func (p Principal) Can(a Action) bool {
	switch {
	case p.Role == RoleAdmin:
		return true
	case p.Role == RolePlatform && p.PlatformID == "":
		return false
	default:
		return grants[p.Role][a]
	}
}

// Authorize checks that the principal may do a on platformID's data. It
// returns nil, a *gateway.Error with code EFORBIDDEN when the role does not
// allow the action, or one with code ENOTFOUND when a platform key names
// another platform: to that key, another platform's data does not exist.
// Staff roles reach every platform; platformID "" means all platforms,
// which only staff may ask for.
func (p Principal) Authorize(a Action, platformID string) error {
	if !p.Can(a) {
		return gateway.Errorf(gateway.EFORBIDDEN, "a %s key cannot %s", roleName(p.Role), a)
	}
	if p.Role == RolePlatform && platformID != p.PlatformID {
		return gateway.Errorf(gateway.ENOTFOUND, "not found")
	}
	return nil
}

// Scope returns what a listing by the principal covers: every platform
// (all true) for staff, its own platform for a platform key. A platform key
// without a platform gets ("", false), which matches nothing.
func (p Principal) Scope() (platformID string, all bool) {
	if p.Role == RolePlatform || !p.Role.Valid() {
		return p.PlatformID, false
	}
	return "", true
}

func roleName(r Role) string {
	if r.Valid() {
		return string(r)
	}
	return fmt.Sprintf("%q role", string(r))
}
