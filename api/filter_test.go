package api_test

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

type filterCase struct {
	filter string
	want   []string // seed keys, any order
}

// runFilters runs every case through GET and then again through
// POST /.search; the second round is served by the filter shape cache,
// and the table itself has consecutive filters of one shape with
// different literals.
func runFilters(t *testing.T, e *env, s seeded, cases []filterCase) {
	t.Helper()
	for round, via := range []string{"GET", "search"} {
		for _, tc := range cases {
			t.Run(via+"/"+tc.filter, func(t *testing.T) {
				var r *resp
				if via == "GET" {
					r = e.do(t, "GET", "/Users?filter="+url.QueryEscape(tc.filter), e.Reader, nil)
				} else {
					r = e.do(t, "POST", "/Users/.search", e.Reader, map[string]any{"schemas": []string{searchURN}, "filter": tc.filter})
				}
				wantPage(t, r, len(tc.want), 1, len(tc.want))
				if got := sorted(s.keysOf(t, r)); !slices.Equal(got, sorted(tc.want)) {
					t.Errorf("round %d: %s matched %v, want %v", round+1, tc.filter, got, sorted(tc.want))
				}
			})
		}
	}
}

func TestFilters(t *testing.T) {
	e := newEnv(t)
	s := e.seed(t)
	dept := entURN + ":department"
	runFilters(t, e, s, []filterCase{
		// eq, and the same shape with other literals
		{`userName eq "alice@example.com"`, []string{"alice"}},
		{`userName eq "bob@example.com"`, []string{"bob"}},
		{`userName eq "nobody@example.com"`, nil},
		{`userName eq "ALICE@Example.COM"`, []string{"alice"}}, // userName is caseExact false
		{`username EQ "carol@example.org"`, []string{"carol"}}, // names and operators too
		{`userName eq "o\"brien"`, []string{"obrien"}},
		{`userName eq "O\"Brien"`, []string{"obrien"}},
		{`userName eq "a\" or userName pr or userName eq \"b"`, nil}, // one literal, not three clauses
		// ne co sw ew pr
		{`userName ne "alice@example.com"`, seedKeys("alice")},
		{`userName ne "zoe@example.com"`, seedKeys("zoe")},
		{`userName co "example.org"`, []string{"carol"}},
		{`userName co "example.net"`, []string{"frank"}},
		{`userName co "EXAMPLE.NET"`, []string{"frank"}},
		{`userName sw "da"`, []string{"dave"}},
		{`userName sw "z"`, []string{"zoe"}},
		{`userName ew ".net"`, []string{"frank"}},
		{`userName ew ".org"`, []string{"carol"}},
		{`title pr`, seedKeys("erin")},
		{`externalId pr`, []string{"alice", "bob"}},
		// gt ge lt le (strings compare case-insensitively for userName)
		{`userName gt "o"`, []string{"obrien", "zoe"}},
		{`userName gt "e"`, []string{"erin", "frank", "obrien", "zoe"}},
		{`userName ge "zoe@example.com"`, []string{"zoe"}},
		{`userName ge "frank@example.net"`, []string{"frank", "obrien", "zoe"}},
		{`userName lt "bob@example.com"`, []string{"alice"}},
		{`userName lt "C"`, []string{"alice", "bob"}},
		{`userName le "bob@example.com"`, []string{"alice", "bob"}},
		{`userName le "carol@example.org"`, []string{"alice", "bob", "carol"}},
		// logic
		{`title eq "Engineer" and active eq true`, []string{"alice", "frank"}},
		{`title eq "Manager" and active eq true`, []string{"bob", "obrien"}},
		{`title eq "Engineer" or title eq "Manager"`, []string{"alice", "bob", "carol", "frank", "obrien"}},
		{`title eq "Intern" or title eq "Director"`, []string{"dave", "zoe"}},
		{`not (active eq true)`, []string{"carol", "erin"}},
		{`not (title pr)`, []string{"erin"}},
		{`(title eq "Engineer" or title eq "Manager") and not (active eq false)`, []string{"alice", "bob", "frank", "obrien"}},
		{`title eq "Engineer" or (title eq "Manager" and userName sw "o")`, []string{"alice", "carol", "frank", "obrien"}},
		{`(userName sw "a" or userName sw "b") and (title eq "Manager" or title eq "Intern")`, []string{"bob"}},
		{`title eq "engineer"`, []string{"alice", "carol", "frank"}}, // title is caseExact false
		// multi-valued
		{`emails[type eq "work" and value co "@example.com"]`, []string{"alice", "bob", "erin", "obrien"}},
		{`emails[type eq "home" and value co "@example.com"]`, []string{"zoe"}},
		{`emails[type eq "home"]`, []string{"alice", "dave", "zoe"}},
		{`emails[not (type eq "work")]`, []string{"alice", "dave", "zoe"}},
		{`emails[primary eq true]`, []string{"alice"}},
		{`emails.value eq "zoe@example.com"`, []string{"zoe"}},
		{`emails.value eq "alice@home.org"`, []string{"alice"}},
		{`emails.value co "@example.com"`, []string{"alice", "bob", "erin", "obrien", "zoe"}},
		{`emails co "@example.org"`, []string{"carol"}},
		{`emails.type eq "home" and emails.value ew ".net"`, []string{"dave"}},
		// complex sub-attributes
		{`name.familyName eq "Adams"`, []string{"bob"}},
		{`name.familyName eq "Chen"`, []string{"zoe"}},
		{`name.familyName eq "o'brien"`, []string{"obrien"}},
		{`name.givenName sw "e"`, []string{"erin"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "Lee"`, []string{"frank"}},
		// enterprise by full URN
		{dept + ` eq "R&D"`, []string{"alice", "carol", "zoe"}},
		{dept + ` eq "Sales"`, []string{"bob", "dave"}},
		{dept + ` eq "support"`, []string{"frank", "obrien"}},
		{dept + ` pr`, seedKeys("erin")},
		{`not (` + dept + ` pr)`, []string{"erin"}},
		{dept + ` eq "R&D" and title eq "Engineer"`, []string{"alice", "carol"}},
		// externalId is caseExact
		{`externalId eq "EXT-Alice"`, []string{"alice"}},
		{`externalId eq "ext-alice"`, nil},
		{`externalId eq "ext-bob"`, []string{"bob"}},
		{`externalId eq "EXT-BOB"`, nil},
		// booleans
		{`active eq false`, []string{"carol", "erin"}},
		{`active eq true`, seedKeys("carol", "erin")},
		{`active ne true`, []string{"carol", "erin"}},
		// meta
		{`meta.created gt "2000-01-01T00:00:00Z"`, seedKeys()},
		{`meta.created gt "2999-01-01T00:00:00Z"`, nil},
		{`meta.lastModified lt "2999-01-01T00:00:00Z"`, seedKeys()},
		// id
		{`id eq "` + s.ids["dave"] + `"`, []string{"dave"}},
		{`id eq "` + s.ids["erin"] + `"`, []string{"erin"}},
	})
}

// TestFilterLastModified: meta.lastModified gt a value read from a
// response selects exactly the users written after it.
func TestFilterLastModified(t *testing.T) {
	e := newEnv(t)
	s := e.seed(t)
	time.Sleep(5 * time.Millisecond)
	carol := e.do(t, "PATCH", "/Users/"+s.ids["carol"], e.Writer, patchBody(op("replace", "title", "Lead")))
	wantJSON(t, carol, 200)
	time.Sleep(5 * time.Millisecond)
	bob := e.do(t, "PATCH", "/Users/"+s.ids["bob"], e.Writer, patchBody(op("replace", "title", "VP")))
	wantJSON(t, bob, 200)
	lmCarol, lmBob := carol.str("meta", "lastModified"), bob.str("meta", "lastModified")
	if lmCarol == "" || lmCarol >= lmBob {
		t.Fatalf("lastModified carol %q, bob %q: want carol earlier", lmCarol, lmBob)
	}
	// A time between the two writes, in another zone and precision.
	tc, _ := time.Parse(time.RFC3339Nano, lmCarol)
	between := tc.Add(500 * time.Microsecond).In(time.FixedZone("X", 2*3600)).Format(time.RFC3339Nano)
	seedLM := s.reprs["zoe"].str("meta", "lastModified")
	runFilters(t, e, s, []filterCase{
		{`meta.lastModified gt "` + lmCarol + `"`, []string{"bob"}},
		{`meta.lastModified gt "` + lmBob + `"`, nil},
		{`meta.lastModified ge "` + lmCarol + `"`, []string{"bob", "carol"}},
		{`meta.lastModified ge "` + lmBob + `"`, []string{"bob"}},
		{`meta.lastModified gt "` + between + `"`, []string{"bob"}},
		// between is carol's time plus half a millisecond: carol is before it.
		{`meta.lastModified ge "` + between + `"`, []string{"bob"}},
		{`meta.lastModified lt "` + between + `"`, seedKeys("bob")},
		{`meta.lastModified le "` + between + `"`, seedKeys("bob")},
		{`meta.lastModified eq "` + between + `"`, nil},
		{`meta.lastModified gt "` + seedLM + `"`, []string{"bob", "carol"}},
		{`meta.lastModified le "` + seedLM + `"`, seedKeys("bob", "carol")},
		{`meta.lastModified lt "` + lmCarol + `"`, seedKeys("bob", "carol")},
		{`meta.lastModified eq "` + lmBob + `"`, []string{"bob"}},
		{`meta.lastModified gt "` + lmCarol + `" and title eq "VP"`, []string{"bob"}},
		{`meta.created lt "` + lmCarol + `" and meta.lastModified gt "` + seedLM + `"`, []string{"bob", "carol"}},
	})
	// Invalid dates are client errors whether or not the shape is cached:
	// the first two share the shape of a valid filter above, the last
	// two are a new shape tried bad first and good second.
	for _, f := range []string{
		`meta.lastModified gt "yesterday"`,
		`meta.lastModified gt "2026-13-45T99:00:00Z"`,
		`meta.lastModified ne "not a date"`,
		`meta.lastModified ne "also not"`,
	} {
		for _, via := range []string{"GET", "search"} {
			var r *resp
			if via == "GET" {
				r = e.do(t, "GET", "/Users?filter="+url.QueryEscape(f), e.Reader, nil)
			} else {
				r = e.do(t, "POST", "/Users/.search", e.Reader, map[string]any{"schemas": []string{searchURN}, "filter": f})
			}
			wantError(t, r, 400, "invalidFilter")
		}
	}
	r := e.do(t, "GET", "/Users?filter="+url.QueryEscape(`meta.lastModified ne "`+lmBob+`"`), e.Reader, nil)
	wantPage(t, r, 7, 1, 7)
}

func TestFilterErrors(t *testing.T) {
	e := newEnv(t)
	e.seed(t)
	cases := []string{
		`nosuch eq "x"`,
		`emails[nosuch eq "x"]`,
		`emails[value eq "x" and nosuch eq "y"]`,
		`name.nosuch eq "x"`,
		`urn:example:unknown:schema:attr eq "x"`,
		entURN + `:nosuch eq "x"`,
		`userName eq`,
		`userName eq "unterminated`,
		`userName xx "x"`,
		`(userName eq "x"`,
		`userName eq "x" and`,
		`emails[type eq "work"`,
		`and`,
		`userName eq "x" userName eq "y"`,
		`active eq "yes"`,
		`addresses.locality eq "Paris"`,
		`password eq "x"`,
		`emails[value[type eq "x"] eq "y"]`,
	}
	for _, f := range cases {
		for _, via := range []string{"GET", "search"} {
			t.Run(via+"/"+f, func(t *testing.T) {
				before := e.snapshot(t)
				var r *resp
				if via == "GET" {
					r = e.do(t, "GET", "/Users?filter="+url.QueryEscape(f), e.Reader, nil)
				} else {
					r = e.do(t, "POST", "/Users/.search", e.Reader, map[string]any{"schemas": []string{searchURN}, "filter": f})
				}
				wantError(t, r, 400, "invalidFilter")
				wantUnchanged(t, before, e.snapshot(t))
			})
		}
	}
	// Groups have their own attributes.
	for _, f := range []string{`userName eq "x"`, `members[nosuch eq "x"]`, `displayName eq`} {
		wantError(t, e.do(t, "GET", "/Groups?filter="+url.QueryEscape(f), e.Reader, nil), 400, "invalidFilter")
	}
}

// TestFilterLiteralsAreLiteral: SQL wildcards, unicode case and quotes in
// filter strings mean themselves.
func TestFilterLiteralsAreLiteral(t *testing.T) {
	e := newEnv(t)
	names := []string{"100%_sure@example.com", "100xxsure@example.com", "a_b@example.com", "axb@example.com", "star*@example.com", "back\\slash@example.com", "Jörg.Ärger@example.com", "ÉMILE@example.com"}
	s := seeded{ids: map[string]string{}, reprs: map[string]*resp{}, names: map[string]string{}}
	for _, n := range names {
		r := e.createUser(t, e.Writer, n, map[string]any{"externalId": n})
		s.ids[n], s.reprs[n], s.names[n] = r.str("id"), r, n
	}
	runFilters(t, e, s, []filterCase{
		{`userName co "%"`, []string{"100%_sure@example.com"}},
		{`userName co "_"`, []string{"100%_sure@example.com", "a_b@example.com"}},
		{`userName sw "100%"`, []string{"100%_sure@example.com"}},
		{`userName ew "_b@example.com"`, []string{"a_b@example.com"}},
		{`externalId co "%"`, []string{"100%_sure@example.com"}},
		{`externalId co "*"`, []string{"star*@example.com"}},
		{`externalId sw "a_"`, []string{"a_b@example.com"}},
		{`externalId co "?"`, nil},
		{`userName co "\\"`, []string{"back\\slash@example.com"}},
		{`userName eq "back\\slash@example.com"`, []string{"back\\slash@example.com"}},
		{`userName eq "JÖRG.ärger@EXAMPLE.com"`, []string{"Jörg.Ärger@example.com"}},
		{`userName sw "émile"`, []string{"ÉMILE@example.com"}},
		{`externalId eq "jörg.ärger@example.com"`, nil},
		{`externalId eq "Jörg.Ärger@example.com"`, []string{"Jörg.Ärger@example.com"}},
	})
	// Non-ASCII case variants collide on userName.
	r := e.do(t, "POST", "/Users", e.Writer, userBody("JÖRG.ÄRGER@example.com", nil))
	wantError(t, r, 409, "uniqueness")
}

// TestFilterNeAndNotIncludeAbsent: ne and not() match resources that lack
// the attribute (erin has no title and no enterprise attributes).
func TestFilterNeAndNotIncludeAbsent(t *testing.T) {
	e := newEnv(t)
	s := e.seed(t)
	runFilters(t, e, s, []filterCase{
		{`title ne "Engineer"`, seedKeys("alice", "carol", "frank")},
		{`not (title eq "Engineer")`, seedKeys("alice", "carol", "frank")},
		{entURN + `:department ne "R&D"`, seedKeys("alice", "carol", "zoe")},
		{`not (title gt "F")`, []string{"alice", "carol", "dave", "erin", "frank"}},
	})
}
