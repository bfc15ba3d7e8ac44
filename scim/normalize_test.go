package scim

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/elimity-com/scim/schema"
)

func userPatchSchemas() patchSchemas {
	return newPatchSchemas(schema.CoreUserSchema(), []schema.Schema{schema.ExtensionEnterpriseUser()})
}

const testEnt = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func TestNormalizePatchBody(t *testing.T) {
	cases := []struct {
		name, ops string
		want      string // the operations after normalisation; "" = body untouched
		quirks    []string
	}{
		{name: "entra boolean string", ops: `[{"op":"Replace","path":"active","value":"False"}]`,
			want: `[{"op":"Replace","path":"active","value":false}]`, quirks: []string{"boolean-as-string"}},
		{name: "boolean string on a filtered sub-attribute", ops: `[{"op":"Replace","path":"emails[type eq \"work\"].primary","value":"TRUE"}]`,
			want: `[{"op":"Replace","path":"emails[type eq \"work\"].primary","value":true}]`, quirks: []string{"boolean-as-string"}},
		{name: "boolean strings inside complex values", ops: `[{"op":"add","path":"emails","value":[{"value":"a@x","primary":"true"}]},{"op":"replace","path":"emails[type eq \"work\"]","value":{"primary":"false"}}]`,
			want: `[{"op":"add","path":"emails","value":[{"value":"a@x","primary":true}]},{"op":"replace","path":"emails[type eq \"work\"]","value":{"primary":false}}]`, quirks: []string{"boolean-as-string"}},
		{name: "path-less boolean string", ops: `[{"op":"replace","value":{"active":"false","` + testEnt + `":{"manager":"m1"}}}]`,
			want: `[{"op":"replace","value":{"active":false,"` + testEnt + `":{"manager":{"value":"m1"}}}}]`, quirks: []string{"boolean-as-string", "bare-id-for-complex-value"}},
		{name: "not a boolean word stays for the library to reject", ops: `[{"op":"replace","path":"active","value":"yes"}]`},
		{name: "a string attribute keeps its string", ops: `[{"op":"replace","path":"title","value":"True"}]`},
		{name: "bare manager id", ops: `[{"op":"Add","path":"` + testEnt + `:manager","value":"m1"}]`,
			want: `[{"op":"Add","path":"` + testEnt + `:manager","value":{"value":"m1"}}]`, quirks: []string{"bare-id-for-complex-value"}},
		{name: "empty bare manager clears it", ops: `[{"op":"Replace","path":"` + testEnt + `:manager","value":""}]`,
			want: `[{"op":"remove","path":"` + testEnt + `:manager"}]`, quirks: []string{"bare-id-for-complex-value", "replace-with-null-is-remove"}},
		{name: "manager object untouched", ops: `[{"op":"add","path":"` + testEnt + `:manager","value":{"value":"m1"}}]`},
		{name: "replace null", ops: `[{"op":"replace","path":"nickName","value":null}]`,
			want: `[{"op":"remove","path":"nickName"}]`, quirks: []string{"replace-with-null-is-remove"}},
		{name: "replace without value", ops: `[{"op":"Replace","path":"title"}]`,
			want: `[{"op":"remove","path":"title"}]`, quirks: []string{"replace-without-value-is-remove"}},
		{name: "add null is a no-op", ops: `[{"op":"add","path":"title","value":null}]`,
			want: `[{"op":"add","value":{}}]`, quirks: []string{"add-with-null-is-noop"}},
		{name: "path-less nulls become removes placed first", ops: `[{"op":"replace","value":{"title":"t","nickName":null,"` + testEnt + `":{"department":null,"costCenter":"c"}}}]`,
			want:   `[{"op":"remove","path":"nickName"},{"op":"remove","path":"` + testEnt + `:department"},{"op":"replace","value":{"title":"t","` + testEnt + `":{"costCenter":"c"}}}]`,
			quirks: []string{"null-in-pathless-value-is-remove"}},
		{name: "path-less add drops nulls", ops: `[{"op":"add","value":{"title":null}}]`,
			want: `[{"op":"add","value":{}}]`, quirks: []string{"null-in-pathless-value-is-remove"}},
		{name: "remove untouched", ops: `[{"op":"remove","path":"members","value":[{"value":"x","$ref":null}]}]`},
		{name: "unknown path untouched", ops: `[{"op":"replace","path":"nope","value":"False"}]`},
		{name: "ambiguous keys untouched", ops: `[{"op":"replace","path":"active","value":"False","Value":"True"}]`},
		{name: "op keys in any case", ops: `[{"OP":"Replace","Path":"active","VALUE":"False"}]`,
			want: `[{"OP":"Replace","Path":"active","VALUE":false}]`, quirks: []string{"boolean-as-string"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + tc.ops + `}`)
			q := &quirkSet{}
			out := normalizePatchBody(body, userPatchSchemas(), q)
			if tc.want == "" {
				if string(out) != string(body) || len(q.names) != 0 {
					t.Fatalf("body changed: %s (quirks %v)", out, q.names)
				}
				return
			}
			var got struct{ Operations any }
			var want any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("output is not JSON: %s", out)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Operations, want) {
				t.Errorf("operations = %s\nwant %s", jsonString(got.Operations), tc.want)
			}
			if !reflect.DeepEqual(q.names, tc.quirks) {
				t.Errorf("quirks = %v, want %v", q.names, tc.quirks)
			}
		})
	}
}

func TestNormalizeResourceBody(t *testing.T) {
	cases := []struct {
		name, body, want string
		quirks           []string
	}{
		{name: "boolean strings and a bare manager",
			body:   `{"userName":"u","active":"True","emails":[{"value":"a@x","primary":"false"}],"` + testEnt + `":{"manager":"m1"}}`,
			want:   `{"userName":"u","active":true,"emails":[{"value":"a@x","primary":false}],"` + testEnt + `":{"manager":{"value":"m1"}}}`,
			quirks: []string{"boolean-as-string", "bare-id-for-complex-value"}},
		{name: "an RFC body is untouched", body: `{"userName":"u","active":false,"nickName":null,"password":"p"}`},
		{name: "readOnly attributes are not rewritten", body: `{"userName":"u","groups":[{"value":"g","display":"True"}]}`},
		{name: "not an object", body: `[1,2]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := &quirkSet{}
			out := normalizeResourceBody([]byte(tc.body), userPatchSchemas(), q)
			if tc.want == "" {
				if string(out) != tc.body {
					t.Fatalf("body changed: %s", out)
				}
				return
			}
			var got, want any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("output is not JSON: %s", out)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(q.names, tc.quirks) {
				t.Errorf("got %s %v\nwant %s %v", out, q.names, tc.want, tc.quirks)
			}
		})
	}
}

func TestRewriteFilterSubAttr(t *testing.T) {
	cases := []struct{ in, want string }{
		{`emails[type eq "work"].value eq "a@x.com"`, `emails[type eq "work" and value eq "a@x.com"]`},
		{`emails[type eq "work"].value eq "a]b.c" and userName sw "a"`, `emails[type eq "work" and value eq "a]b.c"] and userName sw "a"`},
		{`(emails[type eq "work"].value Eq "x")`, `(emails[type eq "work" and value Eq "x"])`},
		{`emails[type eq "work"].primary eq true`, `emails[type eq "work" and primary eq true]`},
		{`emails[type eq "work"].value pr`, `emails[type eq "work" and value pr]`},
		{`emails[type eq "a" or type eq "b"].value eq "x"`, ""}, // "and" would bind to the last alternative
		{`emails[type eq "work"]`, ""},
		{`emails[type eq "work"].value`, ""},
		{`userName eq "x[y].z eq \"w\""`, ""},
		{`emails[type eq "work"].value eq "unterminated`, ""},
		{`emails[type eq "work"].value eqq "x"`, ""},
	}
	for _, tc := range cases {
		got, ok := rewriteFilterSubAttr(tc.in)
		if tc.want == "" {
			if ok || got != tc.in {
				t.Errorf("rewriteFilterSubAttr(%s) = %s, %v; want it untouched", tc.in, got, ok)
			}
			continue
		}
		if !ok || got != tc.want {
			t.Errorf("rewriteFilterSubAttr(%s) = %s, %v; want %s", tc.in, got, ok, tc.want)
		}
		if _, err := newFilterCompiler(&userAttrs, schema.CoreUserSchema(), schema.ExtensionEnterpriseUser()).compile(got); err != nil {
			t.Errorf("the rewritten filter %s does not compile: %v", got, err)
		}
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestNormalizeSearchBody(t *testing.T) {
	q := &quirkSet{}
	out := normalizeSearchBody([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"emails[type eq \"work\"].value eq \"a@x\"","count":2}`), q)
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got["filter"] != `emails[type eq "work" and value eq "a@x"]` || got["count"] != 2.0 || !reflect.DeepEqual(q.names, []string{"filter-sub-attribute-after-value-path"}) {
		t.Errorf("got %s %v", out, q.names)
	}
	plain := []byte(`{"filter":"userName eq \"a\""}`)
	if out := normalizeSearchBody(plain, &quirkSet{}); string(out) != string(plain) {
		t.Errorf("an RFC filter was rewritten: %s", out)
	}
}
