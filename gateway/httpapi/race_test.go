//go:build race

package httpapi_test

// raceEnabled reports whether the tests run with the race detector, which
// multiplies memory and time.
const raceEnabled = true
