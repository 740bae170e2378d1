package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/coverbridge/coverbridge/gateway"
)

// platformID returns the platform a platform-scoped request acts for.
func (s *Server) platformID(c echo.Context) (string, error) {
	platform := c.QueryParam("platform_id")
	if platform == "" {
		return "", gateway.Invalid("platform_id", "required", "the platform_id query parameter is required")
	}
	return platform, nil
}
