//go:build race

package bankstatement

func init() { raceEnabled = true }
