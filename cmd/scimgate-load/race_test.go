//go:build race

package main

// raceEnabled builds the soak's scimgate with the race detector when the
// test itself runs with -race (make test), so a data race in the server
// under 32 clients and three syncs fails the run.
func init() { raceEnabled = true }
