package entra

import (
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// TestDescribedDefaultsAreTheDefaults: the defaults GET /api/v1/kinds
// shows are what a source without those settings uses.
func TestDescribedDefaultsAreTheDefaults(t *testing.T) {
	base := map[string]any{"tenantId": "contoso.onmicrosoft.com", "clientId": "11111111-2222-3333-4444-555555555555",
		"clientSecret": "s3cret"}
	sourcetest.CheckDefaults(t, Kind(), base, func(c sources.Config) any {
		cfg := c.(*Config)
		wait, _ := cfg.throttleWait()
		return []any{cfg.loginURL(), cfg.graphURL(), cfg.scope(), wait}
	})
}
