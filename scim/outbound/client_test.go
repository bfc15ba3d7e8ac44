package outbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/scim/outbound/targettest"
	"github.com/scimgate/scimgate/storage"
)

const testToken = "s3cret-token"

var bearerAuth = storage.PushAuth{Type: storage.PushAuthBearer}

// sleeps records the waits a client asked for and never waits.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// newClient returns a client for tgt with the named profile and a
// recording Sleep.
func newClient(t *testing.T, tgt *targettest.Target, profile string, mod ...func(*outbound.ClientConfig)) (*outbound.Client, *sleeps) {
	t.Helper()
	p, ok := outbound.ProfileByName(profile)
	if !ok {
		t.Fatalf("no profile %q", profile)
	}
	s := &sleeps{}
	cfg := outbound.ClientConfig{
		BaseURL:    tgt.URL(),
		Auth:       outbound.ClientAuth{PushAuth: storage.PushAuth{Type: storage.PushAuthBearer}, Token: testToken},
		Profile:    p,
		HTTPClient: tgt.Client(),
		Sleep:      s.sleep,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := outbound.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, s
}

func userBody(userName, externalID string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":   userName,
		"externalId": externalID,
		"active":     true,
	})
	return b
}

func TestClientCRUD(t *testing.T) {
	ctx := context.Background()
	tgt := targettest.New(t, targettest.Options{Token: testToken})
	c, _ := newClient(t, tgt, "generic")

	ann, err := c.Create(ctx, outbound.KindUsers, userBody("ann@example.com", "ext-ann"))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if ann.ID == "" || ann.UserName != "ann@example.com" || ann.ExternalID != "ext-ann" || ann.Active == nil || !*ann.Active {
		t.Fatalf("created user = %+v", ann)
	}
	got, err := c.Get(ctx, outbound.KindUsers, ann.ID)
	if err != nil || got.UserName != "ann@example.com" {
		t.Fatalf("get = %+v, %v", got, err)
	}

	grp, err := c.Create(ctx, outbound.KindGroups, json.RawMessage(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[{"value":"`+ann.ID+`"}]}`))
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	if !slices.Equal(grp.Members, []string{ann.ID}) {
		t.Fatalf("group members = %v", grp.Members)
	}

	bob, err := c.Create(ctx, outbound.KindUsers, userBody("bob@example.com", "ext-bob"))
	if err != nil {
		t.Fatal(err)
	}
	ops := []outbound.PatchOp{
		{Op: "add", Path: "members", Value: []map[string]string{{"value": bob.ID}}},
		{Op: "remove", Path: `members[value eq "` + ann.ID + `"]`},
		{Op: "replace", Path: "displayName", Value: "Eng"},
	}
	if err := c.Patch(ctx, outbound.KindGroups, grp.ID, ops); err != nil {
		t.Fatalf("patch group: %v", err)
	}
	g, _ := tgt.GroupByName("Eng")
	if g == nil || !slices.Equal(g.MemberIDs(), []string{bob.ID}) {
		t.Fatalf("group after patch = %v", g)
	}

	if err := c.Patch(ctx, outbound.KindUsers, ann.ID, []outbound.PatchOp{{Op: "replace", Path: "active", Value: false}}); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if got, _ := c.Get(ctx, outbound.KindUsers, ann.ID); got.Active == nil || *got.Active {
		t.Fatalf("ann active = %v, want false", got.Active)
	}

	rep, err := c.Replace(ctx, outbound.KindUsers, bob.ID, userBody("robert@example.com", "ext-bob"))
	if err != nil || rep.UserName != "robert@example.com" || rep.ID != bob.ID {
		t.Fatalf("replace = %+v, %v", rep, err)
	}

	if err := c.Delete(ctx, outbound.KindUsers, ann.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := c.Delete(ctx, outbound.KindUsers, ann.ID); err != nil {
		t.Fatalf("delete of a user already gone = %v, want nil", err)
	}
	_, err = c.Get(ctx, outbound.KindUsers, ann.ID)
	var te *outbound.TargetError
	if !errors.As(err, &te) || te.Status != http.StatusNotFound {
		t.Fatalf("get of a deleted user = %v, want TargetError 404", err)
	}
	if n := len(tgt.Users()); n != 1 {
		t.Fatalf("target holds %d users, want 1", n)
	}
}

func TestClientListPages(t *testing.T) {
	ctx := context.Background()
	for _, profile := range []string{"generic", "aws"} {
		t.Run(profile, func(t *testing.T) {
			tgt := targettest.New(t, targettest.Options{Token: testToken, AWS: profile == "aws", MaxResults: 10})
			for i := range 25 {
				tgt.AddUser(t, map[string]any{"userName": "user" + string(rune('a'+i)) + "@example.com"})
			}
			c, _ := newClient(t, tgt, profile)
			if _, err := c.Capabilities(ctx); err != nil {
				t.Fatal(err)
			}
			var pages []int
			var ids []string
			err := c.List(ctx, outbound.KindUsers, func(rs []outbound.Remote) error {
				pages = append(pages, len(rs))
				for _, r := range rs {
					ids = append(ids, r.ID)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			want := []int{10, 10, 5}
			if profile == "aws" {
				// the aws profile has no SPC read: it asks for 100, and
				// the target caps pages at 10.
				want = []int{10, 10, 5}
			}
			if !slices.Equal(pages, want) {
				t.Fatalf("pages = %v, want %v", pages, want)
			}
			slices.Sort(ids)
			if len(slices.Compact(ids)) != 25 {
				t.Fatalf("listed %d distinct users, want 25", len(ids))
			}
		})
	}
}

func TestClientFind(t *testing.T) {
	ctx := context.Background()
	tgt := targettest.New(t, targettest.Options{Token: testToken})
	quoted := `o"brien\x@example.com`
	id := tgt.AddUser(t, map[string]any{"userName": quoted, "externalId": "E-1"})
	tgt.AddUser(t, map[string]any{"userName": "other@example.com", "externalId": "e-1"})
	c, _ := newClient(t, tgt, "generic")
	cases := []struct {
		attr, value string
		want        []string
	}{
		{"userName", quoted, []string{id}},
		{"userName", `O"BRIEN\x@EXAMPLE.COM`, []string{id}}, // userName is caseExact false
		{"externalId", "E-1", []string{id}},                 // externalId is caseExact true
		{"userName", "nobody@example.com", nil},
	}
	for _, tc := range cases {
		rs, err := c.Find(ctx, outbound.KindUsers, tc.attr, tc.value)
		if err != nil {
			t.Fatalf("find %s %q: %v", tc.attr, tc.value, err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("find %s %q = %v, want %v", tc.attr, tc.value, got, tc.want)
		}
	}
}

func TestClientReadsLenientResources(t *testing.T) {
	// A target that sends a numeric id and active as a string, as some
	// SaaS targets do; one such value must not fail the page.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"totalResults":3,"Resources":[
			{"id":42,"userName":"a","active":"True"},
			{"id":"u-2","userName":"b","active":false,"externalId":"x"},
			{"id":"g-1","displayName":"G","members":[{"value":"42"},{"value":"u-2"}]}]}`)
	}))
	defer srv.Close()
	c, err := outbound.NewClient(outbound.ClientConfig{BaseURL: srv.URL, HTTPClient: srv.Client(), Auth: outbound.ClientAuth{PushAuth: bearerAuth, Token: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []outbound.Remote
	if err := c.List(context.Background(), outbound.KindUsers, func(rs []outbound.Remote) error { got = append(got, rs...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != "42" || got[0].Active == nil || !*got[0].Active ||
		got[1].Active == nil || *got[1].Active || got[1].ExternalID != "x" || got[2].Active != nil ||
		!slices.Equal(got[2].Members, []string{"42", "u-2"}) || !strings.Contains(string(got[1].Raw), `"userName":"b"`) {
		t.Fatalf("remotes = %+v", got)
	}
}

func TestClientRequestHeaders(t *testing.T) {
	ctx := context.Background()
	tgt := targettest.New(t, targettest.Options{Token: testToken})
	c, _ := newClient(t, tgt, "generic")
	u, err := c.Create(ctx, outbound.KindUsers, userBody("h@example.com", ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Patch(ctx, outbound.KindUsers, u.ID, []outbound.PatchOp{{Op: "replace", Path: "active", Value: false}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, outbound.KindUsers, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range tgt.Requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("%s %s: Authorization %q", r.Method, r.Path, got)
		}
		if got := r.Header.Get("Accept"); !strings.Contains(got, "application/scim+json") || !strings.Contains(got, "application/json") {
			t.Errorf("%s %s: Accept %q, want both SCIM and plain JSON", r.Method, r.Path, got)
		}
		wantCT := "application/scim+json"
		if r.Method == "GET" {
			wantCT = ""
		}
		if got := r.Header.Get("Content-Type"); got != wantCT {
			t.Errorf("%s %s: Content-Type %q, want %q", r.Method, r.Path, got, wantCT)
		}
	}
	patch := tgt.Requests()[1]
	var body struct {
		Schemas    []string
		Operations []map[string]any
	}
	if err := json.Unmarshal([]byte(patch.Body), &body); err != nil || !slices.Equal(body.Schemas, []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}) ||
		len(body.Operations) != 1 || body.Operations[0]["value"] != false {
		t.Fatalf("PATCH body %s", patch.Body)
	}
}
