package oktatest

import (
	"time"

	"github.com/scimgate/scimgate/sources/sourcetest"
)

// Clock is the fake clock shared by the emulator and the client under test
// (it satisfies okta.Clock).
type Clock = sourcetest.Clock

// NewClock returns a clock at start.
func NewClock(start time.Time) *Clock { return sourcetest.NewClock(start) }
