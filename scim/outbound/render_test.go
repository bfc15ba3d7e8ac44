package outbound

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

func userDoc(t *testing.T, id string, u storage.User, departed bool) storage.UserDoc {
	t.Helper()
	raw, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return storage.UserDoc{ID: id, JSON: raw, Departed: departed}
}

func TestRenderUser(t *testing.T) {
	ada := storage.User{UserName: "ada@example.com", ExternalID: "src-1", Active: true,
		Name:       &storage.Name{GivenName: "Ada", FamilyName: "Lovelace"},
		Emails:     []storage.MultiValue{{Value: "Ada.Lovelace@Example.com", Type: "work", Primary: true}},
		Enterprise: &storage.EnterpriseExt{Department: "Maths", Manager: &storage.ManagerRef{Value: "u9"}}}
	tests := []struct {
		name     string
		allow    []string
		mapping  map[string]string
		departed bool
		want     string
	}{
		{name: "as stored, externalId the scimgate id, no manager",
			want: `{"active":true,"emails":[{"primary":true,"type":"work","value":"Ada.Lovelace@Example.com"}],"externalId":"u1","name":{"familyName":"Lovelace","givenName":"Ada"},"schemas":["` + userSchemaURN + `","` + storage.EnterpriseSchema + `"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Maths"},"userName":"ada@example.com"}`},
		{name: "allow-list", allow: []string{"userName", "name.givenName"},
			want: `{"externalId":"u1","name":{"givenName":"Ada"},"schemas":["` + userSchemaURN + `"],"userName":"ada@example.com"}`},
		{name: "departed is inactive even when active is hidden", allow: []string{"userName"}, departed: true,
			want: `{"active":false,"externalId":"u1","schemas":["` + userSchemaURN + `"],"userName":"ada@example.com"}`},
		{name: "mapping over the view's attributes", allow: []string{"userName", "emails", "externalId"},
			mapping: map[string]string{"userName": "{emails.work|lower}", "externalId": "{externalId}", "emails.home": "{id}@home.example"},
			want:    `{"emails":[{"primary":true,"type":"work","value":"Ada.Lovelace@Example.com"},{"type":"home","value":"u1@home.example"}],"externalId":"src-1","schemas":["` + userSchemaURN + `"],"userName":"ada.lovelace@example.com"}`},
		{name: "mapping from a hidden attribute yields nothing", allow: []string{"userName"},
			mapping: map[string]string{"displayName": "{name.givenName}", "name.formatted": "{name.givenName} {name.familyName}"},
			want:    `{"externalId":"u1","schemas":["` + userSchemaURN + `"],"userName":"ada@example.com"}`},
		{name: "mapping into the extension", allow: []string{"userName", "title"},
			mapping: map[string]string{"enterprise.costCenter": "cc-{userName}"},
			want:    `{"externalId":"u1","schemas":["` + userSchemaURN + `","` + storage.EnterpriseSchema + `"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"costCenter":"cc-ada@example.com"},"userName":"ada@example.com"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := storage.App{ID: "app", Attributes: tt.allow, Push: &storage.PushConfig{Mapping: storage.SourceMapping{User: tt.mapping}}}
			r, err := newRenderer(app)
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.user(userDoc(t, "u1", ada, tt.departed))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := b.encode()
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tt.want {
				t.Errorf("body\n got %s\nwant %s", raw, tt.want)
			}
		})
	}
}

func TestRenderGroup(t *testing.T) {
	g := storage.Group{ID: "g1", DisplayName: "Engineering", ExternalID: "src-g"}
	tests := []struct {
		name    string
		mapping map[string]string
		want    string
	}{
		{name: "plain", want: `{"displayName":"Engineering","externalId":"g1","schemas":["` + groupSchemaURN + `"]}`},
		{name: "mapped", mapping: map[string]string{"displayName": "app-{displayName|lower}", "externalId": "{externalId}"},
			want: `{"displayName":"app-engineering","externalId":"src-g","schemas":["` + groupSchemaURN + `"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newRenderer(storage.App{ID: "app", Push: &storage.PushConfig{Mapping: storage.SourceMapping{Group: tt.mapping}}})
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.group(g)
			if err != nil {
				t.Fatal(err)
			}
			if raw, _ := b.encode(); string(raw) != tt.want {
				t.Errorf("body\n got %s\nwant %s", raw, tt.want)
			}
		})
	}
}

func TestCompilePushMappingErrors(t *testing.T) {
	tests := []struct {
		name   string
		m      storage.SourceMapping
		fields []string
	}{
		{name: "valid", m: storage.SourceMapping{User: map[string]string{"userName": "{emails.work}"}, Group: map[string]string{"displayName": "{displayName}"}}},
		{name: "unknown targets and bad templates", m: storage.SourceMapping{
			User:  map[string]string{"shoeSize": "{x}", "userName": "{emails.work", "enterprise.manager": "{x}"},
			Group: map[string]string{"members": "{x}"}},
			fields: []string{"push.mapping.group.members", "push.mapping.user.enterprise.manager", "push.mapping.user.shoeSize", "push.mapping.user.userName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompilePushMapping(tt.m)
			if len(tt.fields) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var inv *sources.InvalidConfigError
			if !errors.As(err, &inv) {
				t.Fatalf("error %v, want an InvalidConfigError", err)
			}
			var got []string
			for f := range inv.Fields {
				got = append(got, f)
			}
			if strings.Join(sortedNames(inv.Fields), ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestHashAndPatch(t *testing.T) {
	base := body{"userName": "ada", "active": true, "name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		"emails": []any{map[string]any{"value": "a@x", "type": "work"}}, "schemas": []any{userSchemaURN}}
	edit := func(f func(b body)) body {
		raw, _ := base.encode()
		b, _ := decodeBody(raw)
		f(b)
		return b
	}
	tests := []struct {
		name string
		next body
		caps Capabilities
		ops  []PatchOp
	}{
		{name: "unchanged", next: edit(func(b body) {}), ops: nil},
		{name: "one attribute", next: edit(func(b body) { b["active"] = false }),
			ops: []PatchOp{{Op: "replace", Path: "active", Value: false}}},
		{name: "a sub-attribute", next: edit(func(b body) { b["name"].(map[string]any)["givenName"] = "Augusta" }),
			ops: []PatchOp{{Op: "replace", Path: "name.givenName", Value: "Augusta"}}},
		{name: "removed and added", next: edit(func(b body) { delete(b["name"].(map[string]any), "familyName"); b["title"] = "Countess" }),
			ops: []PatchOp{{Op: "replace", Path: "title", Value: "Countess"}, {Op: "remove", Path: "name.familyName"}}},
		{name: "path-less when the target takes it", caps: Capabilities{PathlessReplace: true},
			next: edit(func(b body) { b["title"] = "Countess"; b["name"].(map[string]any)["givenName"] = "Augusta" }),
			ops:  []PatchOp{{Op: "replace", Value: map[string]any{"name": map[string]any{"givenName": "Augusta"}, "title": "Countess"}}}},
		{name: "one path per change without it",
			next: edit(func(b body) { b["title"] = "Countess"; b["emails"] = []any{} }),
			ops:  []PatchOp{{Op: "replace", Path: "emails", Value: []any{}}, {Op: "replace", Path: "title", Value: "Countess"}}},
		{name: "userName and active are never removed", next: edit(func(b body) { delete(b, "active"); delete(b, "userName") }), ops: []PatchOp{}},
		{name: "extension sub-attribute", next: edit(func(b body) { b[storage.EnterpriseSchema] = map[string]any{"department": "Maths"} }),
			ops: []PatchOp{{Op: "replace", Path: storage.EnterpriseSchema + ":department", Value: "Maths"}}},
	}
	old, err := hashBody(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := hashBody(tt.next)
			if err != nil {
				t.Fatal(err)
			}
			if (h == old) != (tt.ops == nil) {
				t.Errorf("hash equal %v, want %v", h == old, tt.ops == nil)
			}
			d, err := diffHash(old, tt.next)
			if err != nil {
				t.Fatal(err)
			}
			if got := patchOps(d, tt.caps); !reflect.DeepEqual(got, tt.ops) && len(got)+len(tt.ops) > 0 {
				t.Errorf("ops\n got %#v\nwant %#v", got, tt.ops)
			}
		})
	}
}

func TestDiffRemote(t *testing.T) {
	next := body{"userName": "ada", "active": true, "name": map[string]any{"givenName": "Ada"}, "externalId": "u1"}
	tests := []struct {
		name    string
		remote  string
		oldHash string
		paths   []string
	}{
		{name: "same, extra attributes left alone", remote: `{"id":"t1","userName":"ada","active":true,"name":{"givenName":"Ada","familyName":"L"},"externalId":"u1","title":"x","meta":{}}`},
		{name: "what scimgate pushed before is removed", remote: `{"userName":"ada","active":true,"name":{"givenName":"Ada","familyName":"L"},"externalId":"u1","title":"x"}`,
			oldHash: "h1;title=0;name.familyName=0;nickName=0", paths: []string{"name.familyName", "title"}},
		{name: "differs", remote: `{"id":"t1","userName":"Ada","active":false,"name":{"givenName":"Ada"}}`, paths: []string{"active", "externalId", "userName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := diffRemote(json.RawMessage(tt.remote), next, tt.oldHash)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.paths(); strings.Join(got, ",") != strings.Join(tt.paths, ",") {
				t.Errorf("paths %v, want %v", got, tt.paths)
			}
		})
	}
}

func TestRenderLeaverStaysInactive(t *testing.T) {
	app := storage.App{ID: "app", Push: &storage.PushConfig{Mapping: storage.SourceMapping{User: map[string]string{"active": "{nickName}"}}}}
	r, err := newRenderer(app)
	if err != nil {
		t.Fatal(err)
	}
	u := storage.User{UserName: "ada", NickName: "true", Active: true}
	for _, departed := range []bool{false, true} {
		b, err := r.user(userDoc(t, "u1", u, departed))
		if err != nil {
			t.Fatal(err)
		}
		if got := b["active"]; got != !departed {
			t.Errorf("departed %v: active %v", departed, got)
		}
	}
}
