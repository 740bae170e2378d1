package httpapi

import (
	_ "embed"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
)

// OpenAPI is the OpenAPI 3 document of the API: the contract that tests
// check the handlers against. It is served at GET /openapi.yaml without a
// key.
//
//go:embed openapi.yaml
var OpenAPI []byte

func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", OpenAPI)
}

// Routes lists the server's routes as "METHOD /path/{param}", the way the
// OpenAPI document names them.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.echo.Routes() {
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue
		}
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		out = append(out, r.Method+" "+strings.Join(parts, "/"))
	}
	sort.Strings(out)
	return out
}
