package httpapi_test

import (
	"testing"

	"github.com/coverbridge/coverbridge/testing/pgtest"
)

// Tests that need PostgreSQL (coverage_test.go) take a database of their
// own from one server shared by the package.
func TestMain(m *testing.M) { pgtest.Main(m) }
