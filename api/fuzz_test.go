package api_test

// Fuzz targets through the whole HTTP stack (middleware, quirk
// normalisation, the library, our handlers) over a real SQLite store,
// in-process for speed. `go test` runs the seeds, the golden PATCH bodies
// among them; run `go test -fuzz FuzzXxx ./api` to explore.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// fuzzServer is one server over its own database, driven without sockets.
type fuzzServer struct {
	h              http.Handler
	writer, reader string
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	st, err := sqlstore.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), sqlstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	srv, err := api.New(api.Config{Store: st})
	if err != nil {
		f.Fatal(err)
	}
	s := &fuzzServer{h: srv.Handler()}
	for _, tok := range []struct {
		dst  *string
		name string
		role storage.Role
	}{{&s.writer, writerName, storage.RoleWriter}, {&s.reader, readerName, storage.RoleReader}} {
		bearer, row, err := api.NewToken(tok.name, tok.role, time.Now())
		if err != nil {
			f.Fatal(err)
		}
		if _, err := st.CreateToken(context.Background(), row); err != nil {
			f.Fatal(err)
		}
		*tok.dst = bearer
	}
	return s
}

func (s *fuzzServer) do(method, target, token string, body string) *httptest.ResponseRecorder {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req = httptest.NewRequest(method, "/scim/v2"+target, rd)
		req.Header.Set("Content-Type", scimCT)
	} else {
		req = httptest.NewRequest(method, "/scim/v2"+target, nil)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// mustCreate POSTs a resource and returns its id.
func (s *fuzzServer) mustCreate(f *testing.F, endpoint, body string) string {
	f.Helper()
	rec := s.do("POST", endpoint, s.writer, body)
	var out struct{ ID string }
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.ID == "" {
		f.Fatalf("POST %s: %d %s", endpoint, rec.Code, rec.Body)
	}
	return out.ID
}

// checkSCIMError fails unless rec is an RFC 7644 error of a client-error status.
func checkSCIMError(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	var e struct {
		Schemas []string
		Status  string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || len(e.Schemas) != 1 || e.Schemas[0] != errorURN || e.Status == "" {
		t.Fatalf("%d is not a SCIM error: %s", rec.Code, rec.Body)
	}
}

const fuzzUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"userName":"bjensen@example.com","externalId":"b1","active":true,"displayName":"Babs","nickName":"B",
	"name":{"givenName":"Barbara","familyName":"Jensen"},
	"emails":[{"value":"bj@work.example","type":"work","primary":true},{"value":"bj@home.example","type":"home"}],
	"phoneNumbers":[{"value":"555","type":"work"}],
	"addresses":[{"type":"work","streetAddress":"1 Main St","locality":"X"}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","employeeNumber":"7"}}`

// fuzzOp is one PATCH operation built from fuzzed strings: a value that
// is not JSON is sent as a JSON string, an empty path is left out, and an
// empty op drops the operation. Building the JSON here, rather than
// fuzzing raw JSON, gets most inputs past the JSON parser.
type fuzzOp struct{ Op, Path, Value string }

func (o fuzzOp) json() string {
	if o.Op == "" {
		return ""
	}
	m := map[string]json.RawMessage{"op": quoteJSON(o.Op)}
	if o.Path != "" {
		m["path"] = quoteJSON(o.Path)
	}
	if o.Value != "" {
		if json.Valid([]byte(o.Value)) {
			m["value"] = json.RawMessage(o.Value)
		} else {
			m["value"] = quoteJSON(o.Value)
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func quoteJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// patchOf renders a PatchOp body of the non-empty operations.
func patchOf(ops ...fuzzOp) string {
	var parts []string
	for _, o := range ops {
		if j := o.json(); j != "" {
			parts = append(parts, j)
		}
	}
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(parts, ",") + `]}`
}

var fuzzUserOpSeeds = [][2]fuzzOp{
	{{"Replace", "active", `"False"`}, {}},
	{{"replace", "", `{"active":false}`}, {}},
	{{"replace", "userName", `"other@example.com"`}, {}},
	{{"replace", "userName", `"BJensen@Example.com"`}, {}},
	{{"replace", "", `{"nickName":null,"title":"T","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":"m"}`}, {}},
	{{"remove", `emails[type eq "home"]`, ""}, {"remove", "userName", ""}},
	{{"add", `emails[type eq "work"].value`, `"x"`}, {"replace", "meta", `{}`}},
	{{"Replace", "title", ""}, {"add", "nickName", "null"}},
	{{"replace", "", `{"password":"p"}`}, {"replace", "password", "q"}},
	{{"Add", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "m1"}, {"Remove", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", ""}},
	{{"add", `addresses[type eq "home"].locality`, "Y"}, {"replace", `phoneNumbers[value eq "555"].primary`, "True"}},
}

// goldenPatchOps returns the operations of every golden PATCH of a
// resource under endpoint, in pairs, placeholders replaced by id.
func goldenPatchOps(f *testing.F, endpoint, id string) [][2]fuzzOp {
	f.Helper()
	placeholder := regexp.MustCompile(`\{\{\w+\}\}`)
	dirs, _ := filepath.Glob(filepath.Join(interopDir, "*"))
	var out [][2]fuzzOp
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.json"))
		for _, file := range files {
			var s goldenStep
			if raw, err := os.ReadFile(file); err != nil || json.Unmarshal(raw, &s) != nil {
				f.Fatalf("%s: unreadable", file)
			}
			if s.Request.Method != "PATCH" || !strings.Contains(s.Request.Path, endpoint+"/") {
				continue
			}
			var body struct {
				Operations []struct {
					Op, Path string
					Value    json.RawMessage
				}
			}
			if json.Unmarshal([]byte(placeholder.ReplaceAllString(string(s.Request.Body), id)), &body) != nil {
				f.Fatalf("%s: body is not a PatchOp", file)
			}
			var ops []fuzzOp
			for _, o := range body.Operations {
				ops = append(ops, fuzzOp{o.Op, o.Path, string(o.Value)})
			}
			for i := 0; i < len(ops); i += 2 {
				pair := [2]fuzzOp{ops[i]}
				if i+1 < len(ops) {
					pair[1] = ops[i+1]
				}
				out = append(out, pair)
			}
		}
	}
	if len(out) == 0 {
		f.Fatal("no golden PATCH bodies")
	}
	return out
}

func addOpSeeds(f *testing.F, seeds [][2]fuzzOp) {
	for _, p := range seeds {
		f.Add(p[0].Op, p[0].Path, p[0].Value, p[1].Op, p[1].Path, p[1].Value)
	}
}

// FuzzPatchUser: a PATCH never gets a 500, a rejected PATCH changes
// nothing (the stored user is byte-for-byte the same, version included),
// and an accepted one answers with what a GET then returns.
func FuzzPatchUser(f *testing.F) {
	s := newFuzzServer(f)
	id := s.mustCreate(f, "/Users", fuzzUser)
	s.mustCreate(f, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"other@example.com"}`)
	addOpSeeds(f, fuzzUserOpSeeds)
	addOpSeeds(f, goldenPatchOps(f, "/Users", id))
	f.Fuzz(func(t *testing.T, op1, path1, value1, op2, path2, value2 string) {
		ops := patchOf(fuzzOp{op1, path1, value1}, fuzzOp{op2, path2, value2})
		rec, after, rejected := s.patchFromKnownState(t, "/Users/"+id, "user", fuzzUser, ops)
		switch {
		case rejected:
		case rec.Code == http.StatusOK:
			if !jsonEqual(rec.Body.Bytes(), []byte(after)) {
				t.Fatalf("PATCH answered %s\nbut GET returns %s", rec.Body, after)
			}
		default:
			t.Fatalf("PATCH %s: unexpected status %d", ops, rec.Code)
		}
	})
}

// patchFromKnownState puts the resource at path back to body, PATCHes it
// with ops and checks what every PATCH must do: never a 500, and a
// rejection in SCIM error shape that changes nothing. It returns the
// answer, the resource as a GET then shows it, and whether it was a
// rejection (already checked).
func (s *fuzzServer) patchFromKnownState(t *testing.T, path, kind, body, ops string) (*httptest.ResponseRecorder, string, bool) {
	t.Helper()
	if rec := s.do("PUT", path, s.writer, body); rec.Code != http.StatusOK {
		t.Fatalf("restoring the %s: %d %s", kind, rec.Code, rec.Body)
	}
	before := s.do("GET", path, s.reader, "").Body.String()
	rec := s.do("PATCH", path, s.writer, ops)
	after := s.do("GET", path, s.reader, "").Body.String()
	switch {
	case rec.Code >= 500:
		t.Fatalf("PATCH %s: %d %s", ops, rec.Code, rec.Body)
	case rec.Code >= 400:
		checkSCIMError(t, rec)
		if after != before {
			t.Fatalf("a rejected PATCH (%d %s) changed the %s\nbefore: %s\nafter:  %s", rec.Code, rec.Body, kind, before, after)
		}
		return rec, after, true
	}
	return rec, after, false
}

// FuzzPatchGroup: the same properties for group PATCH (204 on success).
func FuzzPatchGroup(f *testing.F) {
	s := newFuzzServer(f)
	u1 := s.mustCreate(f, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u1"}`)
	u2 := s.mustCreate(f, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u2"}`)
	group := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","externalId":"e1","members":[{"value":"` + u1 + `"}]}`
	id := s.mustCreate(f, "/Groups", group)
	s.mustCreate(f, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Other"}`)
	addOpSeeds(f, goldenPatchOps(f, "/Groups", u2))
	addOpSeeds(f, [][2]fuzzOp{
		{{"replace", "", `{"id":"x","displayName":"other"}`}, {}},
		{{"remove", `members[value eq "` + u1 + `"]`, ""}, {"remove", "displayName", ""}},
		{{"add", "members", `[{"value":"nosuch"}]`}, {}},
		{{"remove", `members[type eq "User"]`, ""}, {"add", "members", `[{"value":"` + u2 + `","type":"Group"}]`}},
		{{"add", "members", `[{"value":"` + id + `"}]`}, {}},
	})
	f.Fuzz(func(t *testing.T, op1, path1, value1, op2, path2, value2 string) {
		ops := patchOf(fuzzOp{op1, path1, value1}, fuzzOp{op2, path2, value2})
		rec, _, rejected := s.patchFromKnownState(t, "/Groups/"+id, "group", group, ops)
		if !rejected && rec.Code != http.StatusNoContent && rec.Code != http.StatusOK {
			t.Fatalf("PATCH %s: unexpected status %d", ops, rec.Code)
		}
	})
}

// FuzzListUsersFilter: any filter is answered 200 with a ListResponse
// whose counters are integers, or 400 invalidFilter; never 500.
func FuzzListUsersFilter(f *testing.F) {
	s := newFuzzServer(f)
	s.mustCreate(f, "/Users", fuzzUser)
	s.mustCreate(f, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Other@Example.com","active":false}`)
	for _, seed := range []string{
		`userName eq "bjensen@example.com"`, `emails[type eq "work"].value eq "bj@work.example"`,
		`emails[type eq "work" and value co "@work"] and active eq true`, `externalId eq "b1"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D"`,
		`not (nickName pr) or name.familyName sw "J"`, `meta.lastModified gt "2020-01-01T00:00:00Z"`,
		`addresses[type eq "work"]`, `userName eq 1`, `emails[value eq "x"].type`, `title lt null`,
		`displayName co "\u0000"`, `(`, `userName eq "x" and`, `userName eq "%"`, `userName eq "_"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		rec := s.do("GET", "/Users?filter="+url.QueryEscape(filter)+"&sortBy=userName", s.reader, "")
		switch rec.Code {
		case http.StatusOK:
			var page struct {
				TotalResults, StartIndex, ItemsPerPage json.Number
				Resources                              []json.RawMessage
			}
			d := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
			d.UseNumber()
			if err := d.Decode(&page); err != nil {
				t.Fatalf("filter %q: 200 with a body that is not a ListResponse: %s", filter, rec.Body)
			}
			for _, n := range []json.Number{page.TotalResults, page.StartIndex, page.ItemsPerPage} {
				if _, err := n.Int64(); err != nil {
					t.Fatalf("filter %q: counters are not integers: %s", filter, rec.Body)
				}
			}
		case http.StatusBadRequest:
			checkSCIMError(t, rec)
		default:
			t.Fatalf("filter %q: %d %s", filter, rec.Code, rec.Body)
		}
	})
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
