package ldap

import (
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// TestDescribedDefaultsAreTheDefaults: the defaults GET /api/v1/kinds
// shows are what a source without those settings uses.
func TestDescribedDefaultsAreTheDefaults(t *testing.T) {
	base := map[string]any{"url": "ldaps://dc.example.com", "bindDN": "CN=reader,DC=example,DC=com",
		"bindPassword": "pw", "baseDN": "DC=example,DC=com"}
	sourcetest.CheckDefaults(t, Kind(), base, func(c sources.Config) any {
		s, _ := c.(*Config).settings()
		return s
	})
}
