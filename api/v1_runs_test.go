package api_test

import (
	"testing"
)

// TestRunOutcomeNamesItsWarnings: a run that applied everything but some
// records still says "succeeded", and its view counts and names what it
// left out, so "succeeded" alone means nothing was.
func TestRunOutcomeNamesItsWarnings(t *testing.T) {
	const header = "externalId,userName,givenName,familyName,email,active,title,department,manager\n"
	tests := []struct {
		name         string
		users        string
		wantWarnings float64
		wantOutcome  string
	}{
		{"clean", header + "1,ann@example.com,Ann,A,ann@example.com,true,,Eng,\n", 0, "succeeded"},
		{"two records claim one userName", header +
			"1,ann@example.com,Ann,A,ann@example.com,true,,Eng,\n" +
			"2,ann@example.com,Ann,B,ann@example.com,true,,Eng,\n", 1, "succeeded with 1 conflict"},
		{"conflicts and an unresolved manager", header +
			"1,ann@example.com,Ann,A,ann@example.com,true,,Eng,9\n" +
			"2,ann@example.com,Ann,B,ann@example.com,true,,Eng,\n" +
			"3,ann@example.com,Ann,C,ann@example.com,true,,Eng,\n", 3, "succeeded with 2 conflicts and 1 unresolved reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAPIEnv(t)
			o := loadOpenAPI(t, e) // every answer below is checked against the document
			users := e.writeFile(t, "users.csv", tt.users)
			src := o.do(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
				"name": "hr", "kind": "csv", "settings": map[string]any{"usersPath": users},
			}, validRequest).want(t, 201)
			run := o.sync(t, src.str("id"))
			if run.str("status") != "succeeded" || run.num("warnings") != tt.wantWarnings || run.str("outcome") != tt.wantOutcome {
				t.Errorf("run = %s\nwant status succeeded, warnings %v, outcome %q", run.Raw, tt.wantWarnings, tt.wantOutcome)
			}
			runs := o.do(t, "GET", "/api/v1/sources/"+src.str("id")+"/runs", e.Admin, nil, validRequest).want(t, 200)
			if list, _ := runs.Body["runs"].([]any); len(list) != 1 || list[0].(map[string]any)["outcome"] != tt.wantOutcome {
				t.Errorf("runs list = %s, want the outcome %q", runs.Raw, tt.wantOutcome)
			}
		})
	}
}
