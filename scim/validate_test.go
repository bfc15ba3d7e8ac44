package scim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	escim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
)

// The library validates bodies only inside its own ServeHTTP, which we no
// longer route through. These tests hold validateResource and
// validatePatch to what that handler hands over (or answers) for the same
// body, so that a library upgrade that changes validation shows here.

// captureHandler records what the library hands to a resource handler.
type captureHandler struct {
	attrs escim.ResourceAttributes
	ops   []escim.PatchOperation
}

func (h *captureHandler) Create(_ *http.Request, attrs escim.ResourceAttributes) (escim.Resource, error) {
	h.attrs = attrs
	return escim.Resource{ID: "1"}, nil
}
func (h *captureHandler) Replace(_ *http.Request, _ string, attrs escim.ResourceAttributes) (escim.Resource, error) {
	h.attrs = attrs
	return escim.Resource{ID: "1"}, nil
}
func (h *captureHandler) Patch(_ *http.Request, _ string, ops []escim.PatchOperation) (escim.Resource, error) {
	h.ops = ops
	return escim.Resource{}, nil
}
func (*captureHandler) Get(*http.Request, string) (escim.Resource, error) {
	return escim.Resource{}, scimerr.ScimErrorInternal
}
func (*captureHandler) GetAll(*http.Request, escim.ListRequestParams) (escim.Page, error) {
	return escim.Page{}, scimerr.ScimErrorInternal
}
func (*captureHandler) Delete(*http.Request, string) error { return scimerr.ScimErrorInternal }

// validateTestTypes are the resource types validation is compared on: ours,
// and a user type with a custom number extension.
func validateTestTypes(t testing.TB) map[string]escim.ResourceType {
	t.Helper()
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	levels := s.userType
	levels.SchemaExtensions = append([]escim.SchemaExtension{{Schema: patchTestLevels}}, levels.SchemaExtensions...)
	return map[string]escim.ResourceType{"User": s.userType, "Group": s.groupType, "LevelUser": levels}
}

// libraryAnswer runs a request for rt through the library's own handler.
func libraryAnswer(t testing.TB, rt escim.ResourceType, method, body string) (*captureHandler, *httptest.ResponseRecorder) {
	t.Helper()
	h := &captureHandler{}
	rt.Handler = h
	srv, err := escim.NewServer(&escim.ServerArgs{ServiceProviderConfig: &escim.ServiceProviderConfig{}, ResourceTypes: []escim.ResourceType{rt}})
	if err != nil {
		t.Fatal(err)
	}
	target := rt.Endpoint
	if method != http.MethodPost {
		target += "/1"
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	return h, rec
}

// sameError fails unless err renders exactly as the library's answer.
func sameError(t *testing.T, err error, rec *httptest.ResponseRecorder) {
	t.Helper()
	se, ok := err.(scimerr.ScimError)
	if !ok {
		t.Fatalf("error %v (%T) is not a SCIM error; the library answered %d %s", err, err, rec.Code, rec.Body)
	}
	got, _ := json.Marshal(se)
	if se.Status != rec.Code || string(got) != rec.Body.String() {
		t.Errorf("error %d %s, library %d %s", se.Status, got, rec.Code, rec.Body)
	}
}

func TestValidatePatchAsLibrary(t *testing.T) {
	const ent = patchTestEnt
	patch := func(ops string) string { return `{"schemas":["` + patchOpURN + `"],"Operations":` + ops + `}` }
	cases := []struct {
		rt, body string
	}{
		// Accepted shapes (elimity-scim.md's table and the client replays).
		{"User", patch(`[{"op":"Replace","path":"active","value":false}]`)},
		{"User", patch(`[{"op":"replace","value":{"id":"1","active":false,"name.givenName":"G","` + ent + `:department":"D"}}]`)},
		{"User", patch(`[{"op":"add","value":{"` + ent + `":{"department":"Eng","manager":{"value":"m1"}}}}]`)},
		{"User", patch(`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"w@x"}]`)},
		{"User", patch(`[{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"w@x"}}]`)},
		{"User", patch(`[{"op":"add","path":"emails","value":{"value":"one@x"}}]`)},
		{"User", patch(`[{"op":"add","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x"}]}]`)},
		{"User", patch(`[{"op":"add","path":"emails","value":[]}]`)},
		{"User", patch(`[{"op":"remove","path":"emails[type eq \"home\"]"}]`)},
		{"User", patch(`[{"op":"remove","path":"emails","value":{"value":"a@x"}}]`)},
		{"User", patch(`[{"op":"remove","path":"emails","value":[{"value":"a@x"}]}]`)},
		{"User", patch(`[{"op":"remove","path":"title","value":"x"}]`)},
		{"User", patch(`[{"op":"remove","path":"` + ent + `:manager"}]`)},
		{"User", patch(`[{"op":"replace","path":"name","value":{"givenName":"G","formatted":"F"}}]`)},
		{"User", patch(`[{"op":"replace","path":"externalId","value":"e1"}]`)},
		{"User", patch(`[{"op":"replace","value":{"` + schema.CoreUserSchema().ID + `":{"title":"T"}}}]`)},
		{"User", patch(`[{"op":"replace","value":{"":"x","title":"T"}}]`)},
		{"User", patch(`[{"op":"add","path":"roles","value":"r"}]`)},
		{"User", patch(`[{"op":"remove","path":"roles[value eq \"r\"]"}]`)},
		{"LevelUser", patch(`[{"op":"replace","path":"urn:example:levels:level","value":3},{"op":"add","value":{"urn:example:levels:score":1.5}}]`)},
		{"Group", patch(`[{"op":"Add","path":"members","value":[{"value":"u1"},{"value":"u2","display":"Two"}]}]`)},
		{"Group", patch(`[{"op":"remove","path":"members[value eq \"u1\"]"}]`)},
		{"Group", patch(`[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]`)},
		{"Group", patch(`[{"op":"replace","value":{"id":"g","displayName":"New"}},{"op":"replace","path":"members","value":[]}]`)},
		// Rejected, with the library's answer.
		{"User", ``},
		{"User", `[]`},
		{"User", `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`},
		{"User", `{"schemas":["urn:x"],"Operations":[{"op":"replace","path":"title","value":"x"}]}`},
		{"User", patch(`[]`)},
		{"User", patch(`{}`)},
		{"User", patch(`[1]`)},
		{"User", patch(`[{"op":1}]`)},
		{"User", patch(`[{"op":"replace","path":"nosuch","value":"x"}]`)},
		{"User", patch(`[{"op":"replace","path":"emails[","value":"x"}]`)},
		{"User", patch(`[{"op":"replace","path":"name.nosuch","value":"x"}]`)},
		{"User", patch(`[{"op":"replace","path":"urn:x:y:title","value":"x"}]`)},
		{"User", patch(`[{"op":"replace","value":{"id":"1","ID":"2"}}]`)},
		{"User", patch(`[{"op":"remove"}]`)},
		{"User", patch(`[{"op":"remove","value":{"title":"x"}}]`)},
		{"User", patch(`[{"op":"add","path":"title"}]`)},
		{"User", patch(`[{"op":"replace","path":"title","value":null}]`)},
		{"User", patch(`[{"op":"copy","path":"title","value":"x"}]`)},
		{"User", patch(`[{"op":"replace","value":"x"}]`)},
		{"User", patch(`[{"op":"replace","value":{"nosuch":"x"}}]`)},
		{"User", patch(`[{"op":"replace","value":{"emails[":"x"}}]`)},
		{"User", patch(`[{"op":"replace","value":{"title":null}}]`)},
		{"User", patch(`[{"op":"replace","value":{"` + ent + `":"x"}}]`)},
		{"User", patch(`[{"op":"replace","path":"active","value":"False"}]`)},
		{"User", patch(`[{"op":"replace","path":"` + ent + `:manager","value":"m1"}]`)},
		{"User", patch(`[{"op":"add","path":"emails","value":[{"value":1}]}]`)},
		{"User", patch(`[{"op":"add","path":"emails","value":{"value":1}}]`)},
		{"User", patch(`[{"op":"remove","path":"emails","value":{"value":1}}]`)},
		{"User", patch(`[{"op":"remove","path":"emails[nosuch eq \"x\"]"}]`)},
		{"User", patch(`[{"op":"replace","path":"emails[nosuch eq \"x\"].value","value":"x"}]`)},
		{"User", patch(`[{"op":"replace","path":"emails[type eq \"work\"].nosuch","value":"x"}]`)},
		{"User", patch(`[{"op":"replace","path":"title","value":"ok"},{"op":"replace","path":"nosuch","value":"x"}]`)},
		{"LevelUser", patch(`[{"op":"replace","path":"urn:example:levels:level","value":"3"}]`)},
		{"Group", patch(`[{"op":"remove","path":"members[nosuch eq \"u1\"]"}]`)},
		{"Group", patch(`[{"op":"add","path":"members","value":[{"value":1}]}]`)},
	}
	types := validateTestTypes(t)
	for _, c := range cases {
		rt := types[c.rt]
		h, rec := libraryAnswer(t, rt, http.MethodPatch, c.body)
		ops, err := validatePatch(rt, []byte(c.body))
		switch {
		case h.ops == nil && err == nil:
			t.Errorf("%s %s: accepted, the library answered %d %s", c.rt, c.body, rec.Code, rec.Body)
		case h.ops == nil:
			sameError(t, err, rec)
		case err != nil:
			t.Errorf("%s %s: %v, the library accepted it", c.rt, c.body, err)
		case !reflect.DeepEqual(ops, h.ops):
			t.Errorf("%s %s:\n got %#v\nwant %#v", c.rt, c.body, ops, h.ops)
		}
	}
}

func TestValidateResourceAsLibrary(t *testing.T) {
	const ent = patchTestEnt
	user := func(extra string) string {
		return `{"schemas":["` + userSchema + `"],"userName":"u"` + extra + `}`
	}
	cases := []struct {
		rt, body string
	}{
		{"User", user(``)},
		{"User", user(`,"active":true,"name":{"givenName":"G"},"emails":[{"value":"a@x","type":"work","primary":true}],"password":"p"`)},
		{"User", user(`,"externalId":"e","USERNAME":"dup"`)},
		{"User", user(`,"` + ent + `":{"department":"D","manager":{"value":"m"}}`)},
		{"User", user(`,"` + ent + `":null`)},
		{"User", user(`,"id":"x","meta":{"version":"1"},"unknown":1`)},
		{"LevelUser", user(`,"urn:example:levels":{"level":2,"score":0.5}`)},
		{"Group", `{"schemas":["` + groupSchema + `"],"displayName":"G","members":[{"value":"u1"}]}`},
		{"User", ``},
		{"User", `null`},
		{"User", `[]`},
		{"User", `"x"`},
		{"User", `{"userName":"u"}`},
		{"User", `{"schemas":"x","userName":"u"}`},
		{"User", `{"schemas":["urn:x"],"userName":"u"}`},
		{"User", `{"schemas":["` + userSchema + `"]}`},
		{"User", user(`,"active":"True"`)},
		{"User", user(`,"emails":[{"value":1}]`)},
		{"User", user(`,"` + ent + `":"x"`)},
		{"User", user(`,"` + ent + `":{"manager":"m"}`)},
		{"LevelUser", user(`,"urn:example:levels":{"level":"2"}`)},
		{"Group", `{"schemas":["` + groupSchema + `"]}`},
	}
	types := validateTestTypes(t)
	for _, c := range cases {
		for _, method := range []string{http.MethodPost, http.MethodPut} {
			rt := types[c.rt]
			h, rec := libraryAnswer(t, rt, method, c.body)
			attrs, err := validateResource(rt, []byte(c.body))
			switch {
			case h.attrs == nil && err == nil:
				t.Errorf("%s %s %s: accepted, the library answered %d %s", method, c.rt, c.body, rec.Code, rec.Body)
			case h.attrs == nil:
				sameError(t, err, rec)
			case err != nil:
				t.Errorf("%s %s %s: %v, the library accepted it", method, c.rt, c.body, err)
			case !reflect.DeepEqual(attrs, map[string]any(h.attrs)):
				t.Errorf("%s %s %s:\n got %#v\nwant %#v", method, c.rt, c.body, attrs, h.attrs)
			}
		}
	}
}

// FuzzValidatePatchAsLibrary: for any two operations, validatePatch
// accepts exactly what the library's handler accepts and hands over the
// same operations.
func FuzzValidatePatchAsLibrary(f *testing.F) {
	for i, s := range fuzzPatchSeeds {
		next := fuzzPatchSeeds[(i+1)%len(fuzzPatchSeeds)]
		f.Add(s[0], s[1], s[2], next[0], next[1], next[2])
	}
	rt := validateTestTypes(f)["User"]
	f.Fuzz(func(t *testing.T, op1, path1, value1, op2, path2, value2 string) {
		body := `{"schemas":["` + patchOpURN + `"],"Operations":[` + fuzzOperation(op1, path1, value1) + "," + fuzzOperation(op2, path2, value2) + "]}"
		h, rec := libraryAnswer(t, rt, http.MethodPatch, body)
		ops, err := validatePatch(rt, []byte(body))
		switch {
		case (h.ops == nil) != (err != nil):
			t.Fatalf("%s: validatePatch says %v, the library %d %s", body, err, rec.Code, rec.Body)
		case err != nil:
			wantClientError(t, err)
		case !reflect.DeepEqual(ops, h.ops):
			t.Fatalf("%s:\n got %#v\nwant %#v", body, ops, h.ops)
		}
	})
}

func TestDiscoveryAsLibrary(t *testing.T) {
	s, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := escim.NewServer(&escim.ServerArgs{
		ServiceProviderConfig: &escim.ServiceProviderConfig{MaxResults: s.opts.MaxResults},
		ResourceTypes:         []escim.ResourceType{s.userType, s.groupType},
	})
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{
		"/Schemas", "/Schemas?count=2&startIndex=3", "/Schemas?startIndex=99", "/Schemas?count=0", "/Schemas?count=-1&startIndex=-4",
		"/Schemas?count=x", "/Schemas?count=x&startIndex=y", "/Schemas?startIndex=1.5",
		"/Schemas?filter=" + url.QueryEscape(`id eq "`+userSchema+`"`), "/Schemas?filter=" + url.QueryEscape(`name sw "U"`),
		"/Schemas?filter=" + url.QueryEscape(`nosuch eq "x"`), "/Schemas?filter=" + url.QueryEscape(`id eq`),
		"/Schemas/nope",
		"/ResourceTypes", "/ResourceTypes?count=1", "/ResourceTypes?startIndex=2", "/ResourceTypes?count=1&startIndex=5",
		"/ResourceTypes?filter=" + url.QueryEscape(`name eq "User"`), "/ResourceTypes?filter=" + url.QueryEscape(`nosuch eq "x"`),
		"/ResourceTypes/User", "/ResourceTypes/Group", "/ResourceTypes/user", "/ResourceTypes/Nope",
		"", "/",
	}
	for _, sc := range s.allSchemas() {
		paths = append(paths, "/Schemas/"+sc.ID)
	}
	for _, p := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			if method == http.MethodPost && p != "" {
				continue
			}
			want := httptest.NewRecorder()
			lib.ServeHTTP(want, httptest.NewRequest(method, "/v2"+p, nil))
			got := httptest.NewRecorder()
			s.ServeHTTP(got, httptest.NewRequest(method, Prefix+p, nil).WithContext(WithCaller(t.Context(), Caller{CanWrite: true})))
			if got.Code != want.Code || got.Body.String() != want.Body.String() || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
				t.Errorf("%s %s: got %d %s %.300s\nlibrary %d %s %.300s", method, p, got.Code, got.Header().Get("Content-Type"), got.Body,
					want.Code, want.Header().Get("Content-Type"), want.Body)
			}
		}
	}
	for _, p := range []string{"/.search"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			want := httptest.NewRecorder()
			lib.ServeHTTP(want, httptest.NewRequest(method, "/v2"+p, strings.NewReader(`{}`)))
			got := httptest.NewRecorder()
			s.ServeHTTP(got, httptest.NewRequest(method, Prefix+p, strings.NewReader(`{}`)).WithContext(WithCaller(t.Context(), Caller{CanWrite: true})))
			if got.Code != want.Code || got.Body.String() != want.Body.String() {
				t.Errorf("%s %s: got %d %s, library %d %s", method, p, got.Code, got.Body, want.Code, want.Body)
			}
		}
	}
}
