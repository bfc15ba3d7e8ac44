package api_test

import (
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
)

func TestPushProfilesList(t *testing.T) {
	e := newAPIEnv(t)
	r := e.call(t, "GET", "/api/v1/push-profiles", e.Admin, nil).want(t, 200)
	list, _ := r.Body["profiles"].([]any)
	if len(list) != len(outbound.Profiles) {
		t.Fatalf("%d profiles listed, %d known: %s", len(list), len(outbound.Profiles), r.Raw)
	}
	defaults := 0
	for _, item := range list {
		p := item.(map[string]any)
		known, ok := outbound.Profiles[p["name"].(string)]
		if !ok || p["description"] != known.Description || p["description"] == "" {
			t.Errorf("profile %v does not match the profile it names", p)
		}
		if p["default"] == true {
			defaults++
			if p["name"] != outbound.DefaultProfile {
				t.Errorf("%v is marked default; the default is %s", p["name"], outbound.DefaultProfile)
			}
		}
	}
	if defaults != 1 {
		t.Errorf("%d profiles marked default, want 1", defaults)
	}
	e.call(t, "GET", "/api/v1/push-profiles", e.Reader, nil).want(t, 403)
}
