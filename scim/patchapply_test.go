package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	escim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	fp "github.com/scim2/filter-parser/v2"
)

const patchTestEnt = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// patchTestLevels is a custom extension with number attributes.
var patchTestLevels = schema.Schema{
	ID: "urn:example:levels",
	Attributes: schema.Attributes{
		schema.SimpleCoreAttribute(schema.SimpleNumberParams(schema.NumberParams{Name: "level", Type: schema.AttributeTypeInteger()})),
		schema.SimpleCoreAttribute(schema.SimpleNumberParams(schema.NumberParams{Name: "score", Type: schema.AttributeTypeDecimal()})),
	},
}

// patchTestOps runs a real PATCH body through the validation the server
// uses (validatePatch, held to the library's own handler in
// validate_test.go) and returns the operations it hands to the handler.
func patchTestOps(t *testing.T, group bool, operations string) []escim.PatchOperation {
	t.Helper()
	rt := escim.ResourceType{Name: "User", Endpoint: "/Users", Schema: schema.CoreUserSchema(),
		SchemaExtensions: []escim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}, {Schema: patchTestLevels}}}
	if group {
		rt = escim.ResourceType{Name: "Group", Endpoint: "/Groups", Schema: schema.CoreGroupSchema()}
	}
	rt.ID = optional.NewString(rt.Name)
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + operations + `}`
	ops, err := validatePatch(rt, []byte(body))
	if err != nil {
		t.Fatalf("validation rejected the PATCH: %v", err)
	}
	return ops
}

func patchTestJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

func TestApplyPatch(t *testing.T) {
	const (
		user = `{"userName":"bjensen","active":true,"name":{"givenName":"Barbara","familyName":"Jensen"},
			"emails":[{"value":"bj@work.example","type":"work","primary":true},{"value":"bj@home.example","type":"home"}]}`
		group = `{"displayName":"Eng","members":[{"value":"u1","display":"One"},{"value":"u2"},{"value":"u3"}]}`
	)
	tests := []struct {
		name   string
		group  bool
		doc    string
		ops    string                 // the request's Operations array, run through the library
		raw    []escim.PatchOperation // or operations built directly
		want   string                 // the resulting doc, or
		err    scimerr.ScimType       // the error's scimType
		detail string                 // and a part of its detail
	}{
		{name: "okta path-less replace active", doc: user,
			ops:  `[{"op":"replace","value":{"id":"1","active":false}}]`,
			want: strings.Replace(user, `"active":true`, `"active":false`, 1)},
		{name: "entra Replace filtered sub-attribute", doc: user,
			ops:  `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@work.example"}]`,
			want: strings.Replace(user, "bj@work.example", "new@work.example", 1)},
		{name: "entra replace creates missing work email",
			doc:  `{"userName":"u","emails":[{"value":"h@x","type":"home"}]}`,
			ops:  `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"w@x"}]`,
			want: `{"userName":"u","emails":[{"value":"h@x","type":"home"},{"type":"work","value":"w@x"}]}`},
		{name: "filter and names match case-insensitively", doc: user,
			ops:  `[{"op":"replace","path":"EMAILS[TYPE eq \"WORK\"].Primary","value":false}]`,
			want: strings.Replace(user, `"primary":true`, `"primary":false`, 1)},
		{name: "entra path-less replace dotted and URN keys", doc: user,
			ops: `[{"op":"Replace","value":{"name.givenName":"Babs","NAME.familyName":"J",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Sales"}}]`,
			want: `{"userName":"bjensen","active":true,"name":{"givenName":"Babs","familyName":"J"},
				"emails":[{"value":"bj@work.example","type":"work","primary":true},{"value":"bj@home.example","type":"home"}],
				"` + patchTestEnt + `":{"department":"Sales"}}`},
		{name: "extension container", doc: `{"userName":"u","` + patchTestEnt + `":{"costCenter":"1"}}`,
			ops:  `[{"op":"add","value":{"` + patchTestEnt + `":{"department":"Eng","manager":{"value":"m1"}}}}]`,
			want: `{"userName":"u","` + patchTestEnt + `":{"costCenter":"1","department":"Eng","manager":{"value":"m1"}}}`},
		{name: "add filtered sub-attribute creates element", doc: `{"userName":"u"}`,
			ops:  `[{"op":"add","path":"phoneNumbers[type eq \"mobile\"].value","value":"555"}]`,
			want: `{"userName":"u","phoneNumbers":[{"type":"mobile","value":"555"}]}`},
		{name: "add filtered sub-attribute updates match",
			doc:  `{"userName":"u","phoneNumbers":[{"type":"mobile","value":"1"},{"type":"work","value":"2"}]}`,
			ops:  `[{"op":"add","path":"phoneNumbers[type eq \"mobile\"].value","value":"555"}]`,
			want: `{"userName":"u","phoneNumbers":[{"type":"mobile","value":"555"},{"type":"work","value":"2"}]}`},
		{name: "add emails appends, dedups and moves primary", doc: user,
			ops: `[{"op":"add","path":"emails","value":[{"value":"BJ@HOME.example","type":"home","primary":true},
				{"value":"bj@other.example","type":"other"}]}]`,
			want: `{"userName":"bjensen","active":true,"name":{"givenName":"Barbara","familyName":"Jensen"},
				"emails":[{"value":"bj@work.example","type":"work","primary":false},
				{"value":"bj@home.example","type":"home","primary":true},{"value":"bj@other.example","type":"other"}]}`},
		{name: "add same value of another type is a new element", doc: `{"userName":"u","emails":[{"value":"a@x","type":"work"}]}`,
			ops:  `[{"op":"add","value":{"emails":[{"value":"a@x","type":"home"},{"value":"A@X"}]}}]`,
			want: `{"userName":"u","emails":[{"value":"a@x","type":"work"},{"value":"a@x","type":"home"}]}`},
		{name: "replace emails wholesale", doc: user,
			ops:  `[{"op":"replace","path":"emails","value":[{"value":"only@x","primary":true}]}]`,
			want: `{"userName":"bjensen","active":true,"name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"only@x","primary":true}]}`},
		{name: "replace emails with empty list deletes them", doc: user,
			ops:  `[{"op":"replace","value":{"emails":[]}}]`,
			want: `{"userName":"bjensen","active":true,"name":{"givenName":"Barbara","familyName":"Jensen"}}`},
		{name: "remove filtered emails", doc: user,
			ops:  `[{"op":"remove","path":"emails[type eq \"home\"]"}]`,
			want: `{"userName":"bjensen","active":true,"name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"bj@work.example","type":"work","primary":true}]}`},
		{name: "remove last email deletes the attribute", doc: `{"userName":"u","emails":[{"value":"a@x","type":"home"}]}`,
			ops:  `[{"op":"remove","path":"emails[type eq \"home\" or value ew \"@x\"]"}]`,
			want: `{"userName":"u"}`},
		{name: "remove filtered sub-attribute", doc: user,
			ops:  `[{"op":"remove","path":"emails[value sw \"bj@w\"].primary"}]`,
			want: strings.Replace(user, `,"primary":true`, ``, 1)},
		{name: "entra remove members with value list", group: true, doc: group,
			ops:  `[{"op":"Remove","path":"members","value":[{"value":"u1"},{"value":"U3"},{"value":"absent"}]}]`,
			want: `{"displayName":"Eng","members":[{"value":"u2"}]}`},
		{name: "remove members by filter", group: true, doc: group,
			ops:  `[{"op":"remove","path":"members[value eq \"u2\"]"}]`,
			want: `{"displayName":"Eng","members":[{"value":"u1","display":"One"},{"value":"u3"}]}`},
		{name: "okta add members dedups", group: true, doc: group,
			ops:  `[{"op":"add","path":"members","value":[{"value":"u2","display":"Two"},{"value":"u4"}]}]`,
			want: `{"displayName":"Eng","members":[{"value":"u1","display":"One"},{"value":"u2","display":"Two"},{"value":"u3"},{"value":"u4"}]}`},
		{name: "okta rename group with id in value", group: true, doc: group,
			ops:  `[{"op":"replace","value":{"id":"g1","displayName":"Engineering"}}]`,
			want: strings.Replace(group, `"Eng"`, `"Engineering"`, 1)},
		{name: "replace name merges", doc: user,
			ops:  `[{"op":"replace","path":"name","value":{"givenName":"B","middleName":"J"}}]`,
			want: strings.Replace(user, `"givenName":"Barbara"`, `"givenName":"B","middleName":"J"`, 1)},
		{name: "remove name.givenName", doc: user,
			ops:  `[{"op":"remove","path":"name.givenName"}]`,
			want: strings.Replace(user, `"givenName":"Barbara",`, ``, 1)},
		{name: "remove last sub-attribute deletes the complex", doc: `{"userName":"u","name":{"givenName":"B"}}`,
			ops:  `[{"op":"remove","path":"name.givenName"},{"op":"remove","path":"name.familyName"}]`,
			want: `{"userName":"u"}`},
		{name: "remove extension attribute drops the extension", doc: `{"userName":"u","` + patchTestEnt + `":{"department":"x"}}`,
			ops:  `[{"op":"remove","path":"` + patchTestEnt + `:department"},{"op":"remove","path":"` + patchTestEnt + `:manager"}]`,
			want: `{"userName":"u"}`},
		{name: "remove absent attribute is a no-op", doc: `{"userName":"u"}`,
			ops:  `[{"op":"remove","path":"title"},{"op":"remove","path":"emails[type eq \"work\"]"},{"op":"remove","path":"name.givenName"}]`,
			want: `{"userName":"u"}`},
		{name: "numbers are typed by the schema", doc: `{"userName":"u"}`,
			ops:  `[{"op":"add","value":{"urn:example:levels:level":3,"urn:example:levels:score":2}}]`,
			want: `{"userName":"u","urn:example:levels":{"level":3,"score":2}}`},
		{name: "path-less keys with filters and the core schema as container", doc: user,
			ops: `[{"op":"replace","value":{"emails":[{"value":"a@x","type":"work"}],"emails[type eq \"work\"].display":"A",
				"urn:ietf:params:scim:schemas:core:2.0:User":{"title":"Dr"},"urn:ietf:params:scim:schemas:core:2.0:User:nickName":"B"}}]`,
			want: `{"userName":"bjensen","active":true,"name":{"givenName":"Barbara","familyName":"Jensen"},
				"emails":[{"value":"a@x","type":"work","display":"A"}],"title":"Dr","nickName":"B"}`},
		{name: "ne matches elements without the attribute",
			doc:  `{"userName":"u","emails":[{"value":"a@x","type":"work"},{"value":"b@x"},{"value":"c@x","type":"home"}]}`,
			ops:  `[{"op":"remove","path":"emails[type ne \"work\" and value ew \"B@X\"]"},{"op":"remove","path":"emails[not (type eq \"work\")]"}]`,
			want: `{"userName":"u","emails":[{"value":"a@x","type":"work"}]}`},
		{name: "odd stored data does not panic",
			doc: `{"userName":"u","emails":["junk",{"type":5,"value":true},{"type":null}],"name":"junk",
				"` + patchTestEnt + `":{"manager":"junk"}}`,
			ops: `[{"op":"replace","path":"emails[type eq \"work\" and primary eq false].value","value":"w@x"},
				{"op":"add","path":"name.givenName","value":"G"},{"op":"add","path":"` + patchTestEnt + `:manager.value","value":"m"}]`,
			want: `{"userName":"u","emails":["junk",{"type":5,"value":true},{"type":null},{"type":"work","primary":false,"value":"w@x"}],
				"name":{"givenName":"G"},"` + patchTestEnt + `":{"manager":{"value":"m"}}}`},
		{name: "null replace unassigns, null add is a no-op", doc: `{"userName":"u","title":"t","nickName":"n"}`,
			raw:  []escim.PatchOperation{{Op: "replace", Path: patchTestPath(t, "title")}, {Op: "add", Path: patchTestPath(t, "nickName")}},
			want: `{"userName":"u","nickName":"n"}`},
		{name: "keys are written under canonical names", doc: `{"USERNAME":"u","Name":{"GIVENNAME":"g"}}`,
			ops:  `[{"op":"replace","path":"userName","value":"v"},{"op":"add","path":"name.givenName","value":"h"}]`,
			want: `{"userName":"v","name":{"givenName":"h"}}`},
		{name: "ops apply in order", doc: `{"userName":"u"}`,
			ops: `[{"op":"add","path":"title","value":"a"},{"op":"replace","path":"title","value":"b"},
				{"op":"add","path":"nickName","value":"n"},{"op":"remove","path":"nickName"}]`,
			want: `{"userName":"u","title":"b"}`},

		{name: "remove without path", doc: user, raw: []escim.PatchOperation{{Op: "remove"}}, err: scimerr.ScimTypeNoTarget},
		{name: "remove userName", doc: user, ops: `[{"op":"remove","path":"userName"}]`,
			err: scimerr.ScimTypeInvalidValue, detail: "userName is required and cannot be removed"},
		{name: "replace displayName with null", group: true, doc: group, err: scimerr.ScimTypeInvalidValue,
			raw: []escim.PatchOperation{{Op: "replace", Path: patchTestPath(t, "displayName")}}},
		// The library already rejects paths to id and meta (invalidPath): its
		// PATCH schema only adds externalId to the core schema.
		{name: "replace id", doc: user, err: scimerr.ScimTypeMutability,
			raw: []escim.PatchOperation{{Op: "replace", Path: patchTestPath(t, "id"), Value: "2"}}},
		{name: "remove meta", doc: user, err: scimerr.ScimTypeMutability,
			raw: []escim.PatchOperation{{Op: "remove", Path: patchTestPath(t, "meta.lastModified")}}},
		{name: "replace externalId", doc: user, ops: `[{"op":"replace","path":"externalId","value":"X1"}]`,
			want: user[:len(user)-1] + `,"externalId":"X1"}`},
		{name: "add groups", doc: user, ops: `[{"op":"add","path":"groups","value":[{"value":"g"}]}]`, err: scimerr.ScimTypeMutability},
		{name: "change immutable member display", group: true, doc: group,
			ops: `[{"op":"replace","path":"members[value eq \"u1\"].display","value":"Uno"}]`, err: scimerr.ScimTypeMutability},
		{name: "replace with non-eq filter matching nothing", doc: user,
			ops: `[{"op":"replace","path":"emails[type ne \"work\" and type ne \"home\"].value","value":"x@x"}]`, err: scimerr.ScimTypeNoTarget},
		{name: "replace with or-filter matching nothing", doc: user,
			ops: `[{"op":"replace","path":"emails[type eq \"a\" or type eq \"b\"]","value":{"value":"x@x"}}]`, err: scimerr.ScimTypeNoTarget},
		{name: "value of the wrong shape", doc: user,
			raw: []escim.PatchOperation{{Op: "replace", Path: patchTestPath(t, "name"), Value: "Barbara"}},
			err: scimerr.ScimTypeInvalidValue, detail: `"name"`},
		{name: "filtered path with several values", doc: user, err: scimerr.ScimTypeInvalidValue,
			raw: []escim.PatchOperation{{Op: "add", Path: patchTestPath(t, `emails[type eq "work"]`), Value: []any{map[string]any{}, map[string]any{}}}}},
		{name: "unknown attribute", doc: user, err: scimerr.ScimTypeInvalidPath,
			raw: []escim.PatchOperation{{Op: "add", Path: patchTestPath(t, "shoeSize"), Value: "9"}}},
		{name: "path-less value not an object", doc: user,
			raw: []escim.PatchOperation{{Op: "add", Value: []any{"x"}}}, err: scimerr.ScimTypeInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops := tc.raw
			if ops == nil {
				ops = patchTestOps(t, tc.group, tc.ops)
			}
			s, exts := schema.CoreUserSchema(), []schema.Schema{schema.ExtensionEnterpriseUser(), patchTestLevels}
			if tc.group {
				s, exts = schema.CoreGroupSchema(), nil
			}
			doc := patchTestJSON(t, tc.doc)
			err := applyPatch(doc, ops, s, exts...)
			if tc.err != "" {
				var se scimerr.ScimError
				if !errors.As(err, &se) || se.ScimType != tc.err || se.Status != http.StatusBadRequest ||
					!strings.Contains(se.Detail, tc.detail) {
					t.Fatalf("got error %#v, want scimType %q, detail with %q", err, tc.err, tc.detail)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			// JSON fixtures decode numbers as float64; the doc has int64/float64.
			got, _ := json.Marshal(doc)
			if want := patchTestJSON(t, tc.want); !reflect.DeepEqual(patchTestJSON(t, string(got)), want) {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func patchTestPath(t *testing.T, s string) *fp.Path {
	t.Helper()
	p, err := fp.ParsePath([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

// TestApplyPatchNumbers checks the number types applyPatch leaves in doc:
// json.Number becomes int64 when integral, else float64; values are typed
// by their attribute (the library already makes integers int64 and
// decimals float64).
func TestApplyPatchNumbers(t *testing.T) {
	doc := map[string]any{"userName": "u", "x": json.Number("7"), "y": []any{json.Number("1.5")}}
	ops := patchTestOps(t, false, `[{"op":"add","value":{"urn:example:levels":{"level":3,"score":2}}}]`)
	if err := applyPatch(doc, ops, schema.CoreUserSchema(), schema.ExtensionEnterpriseUser(), patchTestLevels); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"userName": "u", "x": int64(7), "y": []any{1.5},
		"urn:example:levels": map[string]any{"level": int64(3), "score": float64(2)}}
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("got %#v\nwant %#v", doc, want)
	}
}

// TestApplyPatchFilterOnNumbers covers comparisons the library's
// PassesFilter would panic on (it wants Go int values).
func TestApplyPatchFilterOnNumbers(t *testing.T) {
	ext := schema.Schema{ID: "urn:example:devices", Attributes: schema.Attributes{schema.ComplexCoreAttribute(schema.ComplexParams{
		Name: "devices", MultiValued: true, SubAttributes: []schema.SimpleParams{
			schema.SimpleStringParams(schema.StringParams{Name: "serial", CaseExact: true}),
			schema.SimpleNumberParams(schema.NumberParams{Name: "port", Type: schema.AttributeTypeInteger()}),
		}})}}
	doc := map[string]any{"urn:example:devices": map[string]any{"devices": []any{
		map[string]any{"serial": "AB", "port": json.Number("80")},
		map[string]any{"serial": "ab", "port": float64(443)},
	}}}
	ops := []escim.PatchOperation{
		{Op: "remove", Path: patchTestPath(t, `urn:example:devices:devices[port gt 100]`)},
		{Op: "remove", Path: patchTestPath(t, `urn:example:devices:devices[serial eq "ab"]`)}, // caseExact: no match
		{Op: "add", Path: patchTestPath(t, `urn:example:devices:devices[serial eq "CD" and port eq 22].port`), Value: json.Number("22")},
	}
	if err := applyPatch(doc, ops, schema.CoreUserSchema(), ext); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"urn:example:devices": map[string]any{"devices": []any{
		map[string]any{"serial": "AB", "port": int64(80)},
		map[string]any{"serial": "CD", "port": int64(22)},
	}}}
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("got %#v\nwant %#v", doc, want)
	}
}
