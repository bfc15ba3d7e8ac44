package api_test

import (
	"slices"
	"testing"
)

// TestAppAttributeChoices: the attributes offered are the ones an app's
// allow-list takes, all at once, and none that always come or never do.
func TestAppAttributeChoices(t *testing.T) {
	e := newAPIEnv(t)
	r := e.call(t, "GET", "/api/v1/app-attributes", e.Admin, nil).want(t, 200)
	paths := fieldsOf(r.Body["attributes"], "path")
	for _, want := range []string{"userName", "externalId", "emails", enterpriseDept} {
		if !slices.Contains(paths, want) {
			t.Errorf("attributes %v lack %s", paths, want)
		}
	}
	for _, never := range []string{"id", "meta", "schemas", "password"} {
		if slices.Contains(paths, never) {
			t.Errorf("attributes offer %s", never)
		}
	}
	app := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "all", "attributes": paths}).want(t, 201)
	if got := strList(app.Body["attributes"]); !slices.Equal(got, paths) {
		t.Errorf("the app keeps %v, want every offered path %v", got, paths)
	}
	e.call(t, "GET", "/api/v1/app-attributes", e.Reader, nil).want(t, 403)
}
