package graphtest

import (
	"time"

	"github.com/scimgate/scimgate/sources/sourcetest"
)

// FakeClock is the manual clock shared by a test's emulator and client.
type FakeClock = sourcetest.Clock

// NewFakeClock starts at a fixed instant.
func NewFakeClock() *FakeClock {
	return sourcetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
}
