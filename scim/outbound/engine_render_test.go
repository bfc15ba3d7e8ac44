package outbound_test

import (
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// TestPushRepresentation: the target gets the view as the app sees it
// (the allow-list), then shaped by the app's push mapping.
func TestPushRepresentation(t *testing.T) {
	tests := []struct {
		name    string
		attrs   []string
		mapping map[string]string
		want    map[string]any // attributes of the target's user; nil: must be absent
	}{
		{name: "as the view has it", want: map[string]any{"userName": "nia", "displayName": "User nia", "title": "Pilot", "active": true}},
		{name: "allow-list", attrs: []string{"userName", "active"},
			want: map[string]any{"userName": "nia", "active": true, "displayName": nil, "title": nil, "emails": nil}},
		{name: "mapping", mapping: map[string]string{"userName": "{emails.work}", "nickName": "{title|lower}"},
			want: map[string]any{"userName": "nia@example.com", "nickName": "pilot", "title": "Pilot"}},
		{name: "mapping sees only what the app may", attrs: []string{"userName", "emails"}, mapping: map[string]string{"nickName": "{title}"},
			want: map[string]any{"userName": "nia", "nickName": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPushFixture(t, fixtureOptions{attrs: tt.attrs, push: storage.PushConfig{Mapping: storage.SourceMapping{User: tt.mapping}}})
			u := f.user("nia", func(u *storage.User) { u.Title = "Pilot" })
			f.mustRun(outbound.PushJob{})
			users := f.target.Users()
			if len(users) != 1 {
				t.Fatalf("%d users in the target", len(users))
			}
			r := users[0]
			if r.Str("externalId") != u.ID {
				t.Errorf("externalId %q, want %s", r.Str("externalId"), u.ID)
			}
			for attr, want := range tt.want {
				if got, ok := r[attr]; want == nil && ok {
					t.Errorf("%s = %v, want none", attr, got)
				} else if want != nil && got != want {
					t.Errorf("%s = %v, want %v", attr, got, want)
				}
			}
		})
	}
}

// TestPushMappingErrors: a user the mapping cannot render is an error of
// that user; the others are pushed.
func TestPushMappingErrors(t *testing.T) {
	f := newPushFixture(t, fixtureOptions{push: storage.PushConfig{Mapping: storage.SourceMapping{User: map[string]string{"active": "{title}"}}}})
	f.user("ok1", func(u *storage.User) { u.Title = "true" })
	bad := f.user("bad", func(u *storage.User) { u.Title = "sometimes" })
	f.user("ok2", func(u *storage.User) { u.Title = "false" })
	out := f.mustRun(outbound.PushJob{})
	if out.Run.Counts.Errors != 1 || out.Run.Counts.Created != 2 {
		t.Errorf("counts %s", counts(out.Run.Counts))
	}
	ch := f.changes(out.Run)
	if len(ch) == 0 || ch[0].Action != storage.ChangeError || ch[0].ResourceID != bad.ID || !strings.Contains(ch[0].Detail, "sometimes") {
		t.Errorf("change log %+v", ch)
	}
	if r := f.targetUser("ok2"); r["active"] != false {
		t.Errorf("ok2 active %v, want false from the mapping", r["active"])
	}
}
