package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
	"github.com/coverbridge/coverbridge/platforms/access"
)

// platformID returns the platform a platform-scoped request acts for.
//
// A platform key acts for its own platform. It may repeat it in
// ?platform_id=; naming another platform is answered 404, exactly as a
// resource of another platform would be, so nothing tells whether that
// platform exists. A staff key has no platform: it must name one with
// ?platform_id=, and its role must allow it (admin: read and write; finance
// and compliance: read only); otherwise 400 or 403.
//
// A handler that takes a platform_id in the body as well refuses one that
// is not this platform, as not found.
func (s *Server) platformID(c echo.Context) (string, error) {
	named := c.QueryParam("platform_id")
	p, ok := principal(c)
	if !ok {
		// No key store: the request names its platform.
		if named == "" {
			return "", gateway.Invalid("platform_id", "required", "the platform_id query parameter is required")
		}
		return named, nil
	}
	switch p.Role {
	case access.RolePlatform:
		if p.PlatformID == "" {
			return "", gateway.Errorf(gateway.EFORBIDDEN, "this platform key belongs to no platform")
		}
		if named != "" && named != p.PlatformID {
			return "", gateway.Errorf(gateway.ENOTFOUND, "not found")
		}
		return p.PlatformID, nil
	case access.RoleAdmin:
	case access.RoleFinance, access.RoleCompliance:
		if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead {
			return "", gateway.Errorf(gateway.EFORBIDDEN, "a %s key reads platform data but cannot change it", p.Role)
		}
	default:
		return "", gateway.Errorf(gateway.EFORBIDDEN, "this key's role reaches no platform data")
	}
	if named == "" {
		return "", gateway.Invalid("platform_id", "required", "a "+string(p.Role)+" key acts for no platform of its own: name one with the platform_id query parameter")
	}
	return named, nil
}
