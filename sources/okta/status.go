package okta

// statusActive maps an Okta user status to SCIM active. The statuses are
// Okta's UserStatus enum (developer.okta.com/docs/api/openapi/okta-management/
// management/tag/User, "User status"; lifecycle transitions in the
// UserLifecycle tag); the true/false choice is our policy, recorded in
// shared/cloud-apis.md section 7:
//
//	STAGED            false  created but never activated: cannot sign in yet
//	PROVISIONED       true   activated, password not chosen yet: a live account
//	ACTIVE            true
//	RECOVERY          true   resetting a password: still an employee
//	PASSWORD_EXPIRED  true   must change the password at the next sign-in
//	LOCKED_OUT        true   temporary lock after failed sign-ins
//	SUSPENDED         false  an admin blocked access
//	DEPROVISIONED     false  deactivated (the first step of deletion)
//
// A status not in the table (ACTIVATING while activation is in flight, or
// one Okta adds later) maps to false: granting access on a state we don't
// understand is the worse mistake. Such users are counted in the run's
// notes so an admin sees them.
var statusActive = map[string]bool{
	"STAGED":           false,
	"PROVISIONED":      true,
	"ACTIVE":           true,
	"RECOVERY":         true,
	"PASSWORD_EXPIRED": true,
	"LOCKED_OUT":       true,
	"SUSPENDED":        false,
	"DEPROVISIONED":    false,
}

// activeFor returns "true" or "false" for status and whether the status
// is one the table knows.
func activeFor(status string) (active string, known bool) {
	a, known := statusActive[status]
	if a {
		return "true", known
	}
	return "false", known
}
