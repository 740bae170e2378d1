//go:build !race

package crash

// raceEnabled reports whether the tests run with the race detector; the
// engine binary is then built with it too.
const raceEnabled = false
