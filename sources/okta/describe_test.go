package okta

import (
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// TestDescribedDefaultsAreTheDefaults: the defaults GET /api/v1/kinds
// shows are what a source without those settings uses.
func TestDescribedDefaultsAreTheDefaults(t *testing.T) {
	base := map[string]any{"orgURL": "https://acme.okta.com", "apiToken": "00abc"}
	sourcetest.CheckDefaults(t, Kind(), base, func(c sources.Config) any {
		s, _ := c.(*Config).resolve()
		return s
	})
}
