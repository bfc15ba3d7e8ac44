package okta_test

import (
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources/okta"
)

func TestOrgURLOnALinkLocalAddressIsRefused(t *testing.T) {
	for _, u := range []string{"http://169.254.169.254", "https://169.254.169.254", "https://[fe80::1]"} {
		errs := (&okta.Config{OrgURL: u}).Validate()
		if !strings.Contains(errs["orgURL"], "link-local") {
			t.Errorf("%s: %v", u, errs)
		}
	}
	if errs := (&okta.Config{OrgURL: "http://127.0.0.1:8081"}).Validate(); errs["orgURL"] != "" {
		t.Errorf("loopback refused: %v", errs)
	}
}
