package scim

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	escim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// Fuzz targets for the two translators that take client input apart: the
// filter compiler and the PATCH pipeline (normalisation, the library's
// validation, our application). `go test` runs the seeds; run
// `go test -fuzz FuzzXxx ./scim` to explore.

var fuzzFilterSeeds = []string{
	`userName eq "bjensen"`,
	`userName Eq "x@y" and active eq true`,
	`externalId eq "00ujl29u0le5T6Aj10h7"`,
	`emails[type eq "work" and value co "@example.com"]`,
	`emails[type eq "work"].value eq "alice@contoso.com"`,
	`emails[type eq "work"].value eq "a" or emails[type eq "home"].primary eq true`,
	`not (title pr) or name.familyName sw "O'"`,
	`meta.lastModified gt "2026-11-25T10:00:00.000Z"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D" and title eq "x"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1"`,
	`displayName eq "Test SCIMv2"`,
	`members[value eq "u1"]`,
	`userName eq "a\"b"`,
	`userName eq null`,
	`phoneNumbers[type eq "mobile"].value pr`,
	`nosuch[value eq "x"]`,
	`userName gt 5`,
	`((userName eq "a"))`,
	`emails[`,
	`"`,
	``,
}

// FuzzFilterCompile: any filter text either compiles or is rejected with
// an error, never a panic; a compiled filter compiles to the same
// expression again (the second time through the shape cache).
func FuzzFilterCompile(f *testing.F) {
	for _, s := range fuzzFilterSeeds {
		f.Add(s)
	}
	users := newFilterCompiler(&userAttrs, schema.CoreUserSchema(), schema.ExtensionEnterpriseUser())
	groups := newFilterCompiler(&groupAttrs, schema.CoreGroupSchema())
	f.Fuzz(func(t *testing.T, raw string) {
		if out, ok := rewriteFilterSubAttr(raw); ok {
			raw = out
		}
		for _, fc := range []*filterCompiler{users, groups} {
			first, err := fc.compile(raw)
			if err != nil {
				continue
			}
			again, err := fc.compile(raw)
			if err != nil || !reflect.DeepEqual(first, again) {
				t.Fatalf("%q compiled to %#v, then to %#v (%v)", raw, first, again, err)
			}
		}
	})
}

// fuzzUserDoc is the stored user PATCH bodies are applied to.
const fuzzUserDoc = `{"userName":"bjensen","externalId":"b1","active":true,"displayName":"Babs",
	"name":{"givenName":"Barbara","familyName":"Jensen"},
	"emails":[{"value":"bj@work.example","type":"work","primary":true},{"value":"bj@home.example","type":"home"}],
	"phoneNumbers":[{"value":"555","type":"work"}],
	"addresses":[{"type":"work","streetAddress":"1 Main St","locality":"X"}],
	"` + testEnt + `":{"department":"R&D","manager":{"value":"m1"}}}`

// fuzzPatchSeeds are operations as (op, path, value) triples; a value that
// is not JSON is sent as a JSON string (see fuzzOperation).
var fuzzPatchSeeds = [][3]string{
	{"Replace", "active", `"False"`},
	{"replace", "", `{"active":false}`},
	{"Replace", `emails[type eq "work"].value`, "x@y"},
	{"Add", `phoneNumbers[type eq "mobile"].value`, "1"},
	{"Add", `addresses[type eq "home"].streetAddress`, "2 Elm"},
	{"Add", testEnt + ":manager", "m2"},
	{"Remove", testEnt + ":manager", ""},
	{"replace", "", `{"displayName":"D","name.givenName":"G","` + testEnt + `:employeeNumber":"7"}`},
	{"replace", "", `{"nickName":null,"title":"T"}`},
	{"replace", "", `{"id":"x","` + testEnt + `":{"costCenter":"c","department":null}}`},
	{"replace", "", `{"password":"p"}`},
	{"remove", `emails[type eq "home"]`, ""},
	{"remove", "emails", `[{"value":"bj@home.example"}]`},
	{"add", "emails", `[{"value":"n@x","primary":"true"}]`},
	{"replace", `emails[value sw "bj"].primary`, "true"},
	{"Replace", "title", ""},
	{"add", "title", "null"},
	{"remove", "userName", ""},
	{"replace", "id", "x"},
	{"copy", "title", "x"},
	{"replace", `emails[type eq "a" or type eq "b"].value`, "x"},
	{"replace", "x509Certificates", `[{"value":"Y2VydA=="}]`},
	{"add", "name", `{"givenName":null,"familyName":"F","formatted":1}`},
}

// fuzzOperation renders one operation; an empty path or value is left out.
func fuzzOperation(op, path, value string) string {
	m := map[string]json.RawMessage{}
	quote := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	m["op"] = quote(op)
	if path != "" {
		m["path"] = quote(path)
	}
	if value != "" {
		m["value"] = quote(value)
		if json.Valid([]byte(value)) {
			m["value"] = json.RawMessage(value)
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// FuzzPatchPipeline runs a PATCH body through everything PATCH does
// before the store: normalisation, validation (validatePatch), applyPatch
// and the conversion to a User. Failures must be client errors (4xx SCIM
// errors), and a user that comes out must survive a conversion round trip.
func FuzzPatchPipeline(f *testing.F) {
	for i, s := range fuzzPatchSeeds {
		next := fuzzPatchSeeds[(i+1)%len(fuzzPatchSeeds)]
		f.Add(s[0], s[1], s[2], next[0], next[1], next[2])
	}
	rt := escim.ResourceType{ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Schema: schema.CoreUserSchema(),
		SchemaExtensions: []escim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}}}
	ps := newPatchSchemas(rt.Schema, extensionSchemas(rt))
	f.Fuzz(func(t *testing.T, op1, path1, value1, op2, path2, value2 string) {
		operations := "[" + fuzzOperation(op1, path1, value1) + "," + fuzzOperation(op2, path2, value2) + "]"
		body := normalizePatchBody([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`+operations+`}`), ps, &quirkSet{})
		ops, err := validatePatch(rt, body)
		if err != nil {
			wantClientError(t, err) // rejected by validation, as a client error
			return
		}
		doc := patchTestJSON(t, fuzzUserDoc)
		if err := applyPatch(doc, ops, withExternalID(rt.Schema), rt.SchemaExtensions[0].Schema); err != nil {
			wantClientError(t, err)
			return
		}
		u, err := toUser(doc)
		if err != nil {
			wantClientError(t, err)
			return
		}
		m, err := userMap(u)
		if err != nil {
			t.Fatalf("userMap: %v", err)
		}
		again, err := toUser(m)
		if err != nil || !reflect.DeepEqual(u, again) {
			t.Fatalf("round trip changed the user: %+v\n%+v (%v)", u, again, err)
		}
	})
}

func wantClientError(t *testing.T, err error) {
	t.Helper()
	var se scimerr.ScimError
	if !errors.As(err, &se) || se.Status < 400 || se.Status >= 500 {
		t.Fatalf("error %v (%T) is not a SCIM client error", err, err)
	}
}
