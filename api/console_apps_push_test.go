package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// pushForm is a complete push settings form, which cases change.
func pushForm(kv ...string) url.Values {
	f := url.Values{"url": {"http://127.0.0.1:9/scim/v2"}, "enabled": {"on"}, "authType": {"bearer"}, "token": {"target-secret-1"},
		"schedule": {"1h"}, "afterChangeSeconds": {"60"}, "profile": {""}, "match": {"userName, externalId"}, "onLeave": {"delete"},
		"maxPercent": {"10"}, "maxCount": {"25"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func TestConsoleAppPushSettings(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	id := createAppThroughForm(t, u, appForm())
	u.get(t, "/ui/apps/"+id).want(t, http.StatusOK, "The app pulls its view through its tokens.", "Set up push")
	u.get(t, "/ui/apps/"+id+"/push").want(t, http.StatusOK, `<label for="push-url">SCIM base URL</label>`, `<label for="push-token">Bearer token</label>`, "No token is set.",
		// the profiles the API lists, the default chosen for a new push
		`<option value="generic" selected>generic: Any SCIM 2.0 target`, `<option value="aws">aws: AWS IAM Identity Center`)
	u.post(t, "/ui/apps/"+id+"/push", pushForm()).want(t, http.StatusSeeOther)
	got := env.call(t, "GET", "/api/v1/apps/"+id, env.Admin, nil).want(t, 200)
	for path, want := range map[string]any{"push.url": "http://127.0.0.1:9/scim/v2", "push.auth.type": "bearer", "push.auth.token": "set",
		"push.schedule": "1h", "push.afterChangeSeconds": 60.0, "push.match": []any{"userName", "externalId"}, "push.onLeave": "delete",
		"push.deletion.maxPercent": 10.0, "push.deletion.maxCount": 25.0, "push.enabled": true, "push.profile": "generic"} {
		if v := jsonAt(got.Body, path); !equalJSON(v, want) {
			t.Errorf("%s = %#v, want %#v", path, v, want)
		}
	}
	secretBefore := openSecret(t, env, id, pushOf(t, env, id), "token")

	// The form never shows the secret; sent back blank, it keeps it.
	page := u.get(t, "/ui/apps/"+id+"/push").want(t, http.StatusOK, `<label for="push-token">Replace bearer token</label>`, "A token is set; leave this empty to keep it.")
	if strings.Contains(page.Body, "target-secret-1") {
		t.Fatal("the push form shows the stored token")
	}
	u.post(t, "/ui/apps/"+id+"/push", pushForm("token", "", "enabled", "")).want(t, http.StatusSeeOther)
	if got := openSecret(t, env, id, pushOf(t, env, id), "token"); got != secretBefore || got != "target-secret-1" {
		t.Errorf("after saving with a blank token the stored one is %q", got)
	}
	if p := pushOf(t, env, id); p.Enabled {
		t.Error("unchecking Push enabled left the push enabled")
	}

	// Switching to oauth2 and back to bearer leaves nothing of the other.
	u.post(t, "/ui/apps/"+id+"/push", pushForm("authType", "oauth2", "token", "", "tokenURL", "http://127.0.0.1:9/token",
		"clientId", "scimgate", "clientSecret", "client-secret-1", "scope", "scim.write")).want(t, http.StatusSeeOther)
	if p := pushOf(t, env, id); p.Auth.Type != "oauth2" || p.Auth.ClientID != "scimgate" || openSecret(t, env, id, p, "clientSecret") != "client-secret-1" {
		t.Fatalf("after switching to oauth2: %+v", p.Auth)
	}
	u.post(t, "/ui/apps/"+id+"/push", pushForm("token", "target-secret-2", "enabled", "")).want(t, http.StatusSeeOther)
	if p := pushOf(t, env, id); p.Auth.Type != "bearer" || p.Auth.TokenURL != "" || p.Auth.ClientID != "" || openSecret(t, env, id, p, "token") != "target-secret-2" {
		t.Fatalf("after switching back to bearer: %+v", p.Auth)
	}

	// Problems come back next to their fields, what was typed kept.
	cases := []struct {
		name          string
		form          url.Values
		input, needle string
	}{
		{"url not https", pushForm("url", "http://example.com/scim"), "push-url", "https"},
		{"bad schedule", pushForm("schedule", "every tuesday"), "push-schedule", ""},
		{"oauth2 without its settings", pushForm("authType", "oauth2", "token", ""), "push-token-url", "required for type oauth2"},
		{"seconds not a number", pushForm("afterChangeSeconds", "soon"), "push-after-change", "whole number of seconds"},
		{"percent out of range", pushForm("maxPercent", "150"), "push-max-percent", "between 0"},
		{"unknown profile", pushForm("profile", "nosuch"), "push-profile", "must be one of"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u.get(t, "/ui/apps/"+id+"/push")
			p := u.post(t, "/ui/apps/"+id+"/push", tc.form).want(t, http.StatusUnprocessableEntity, `class="problem"`, `value="userName, externalId"`)
			m := regexp.MustCompile(`<p id="` + tc.input + `-error" class="field-error">([^<]+)</p>`).FindStringSubmatch(p.Body)
			if m == nil || !strings.Contains(m[1], tc.needle) {
				t.Fatalf("no message %q next to %s:\n%s", tc.needle, tc.input, p.Body)
			}
			if strings.Contains(p.Body, "target-secret-1") || strings.Contains(p.Body, "target-secret-2") {
				t.Error("the re-rendered form shows the typed secret")
			}
		})
	}
	if p := pushOf(t, env, id); p.URL != "http://127.0.0.1:9/scim/v2" || p.Schedule != "1h" {
		t.Errorf("a refused form changed the push: %+v", p)
	}
}

func TestConsoleAppPushActions(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	id := createAppThroughForm(t, u, appForm())
	env.call(t, "PATCH", "/api/v1/apps/"+id, env.Admin, map[string]any{"push": goodPush()}).want(t, 200)
	u.get(t, "/ui/apps/"+id).want(t, http.StatusOK, ">Test connection</button>", ">Push now</button>", "No runs yet.")

	test := u.post(t, "/ui/apps/"+id+"/push/test", nil).want(t, http.StatusOK, "The connection test failed.",
		`<span class="bad">Failed</span>: auth: the target answered 401: the token was refused`)
	if !strings.Contains(test.Body, `<span class="good">Passed</span>: reach`) {
		t.Error("the passed check is not shown")
	}

	p := u.post(t, "/ui/apps/"+id+"/push/sync", url.Values{"mode": {"full"}, "dryRun": {"on"}}).want(t, http.StatusSeeOther)
	m := regexp.MustCompile(`^/ui/apps/` + id + `/push/runs/([^/]+)$`).FindStringSubmatch(p.Location)
	if m == nil {
		t.Fatalf("Push now went to %q", p.Location)
	}
	if tr := env.Pushes.lastTrigger(); !tr.Full || !tr.DryRun || tr.Reason != "manual" {
		t.Errorf("trigger %+v, want a manual full dry run", tr)
	}
	u.get(t, "/ui/apps/"+id).want(t, http.StatusOK, "Push started.", `/ui/apps/`+id+`/push/runs/`+m[1], "not started, dry run")

	// Removing the push leaves a pull-only app.
	u.post(t, "/ui/apps/"+id+"/push/remove", nil).want(t, http.StatusSeeOther)
	if got := env.call(t, "GET", "/api/v1/apps/"+id, env.Admin, nil).want(t, 200); got.Body["push"] != nil {
		t.Errorf("push after removing it: %v", got.Body["push"])
	}
	u.post(t, "/ui/apps/"+id+"/push/test", nil).want(t, http.StatusUnprocessableEntity, "has no push configured")

	// Deleting the app goes back to the list, where it is gone.
	u.get(t, "/ui/apps/"+id)
	u.post(t, "/ui/apps/"+id+"/delete", nil).want(t, http.StatusSeeOther)
	env.call(t, "GET", "/api/v1/apps/"+id, env.Admin, nil).want(t, 404)
	u.get(t, "/ui/apps").want(t, http.StatusOK, "App crm deleted")
}
