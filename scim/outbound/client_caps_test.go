package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/scim/outbound/targettest"
)

func TestClientCapabilities(t *testing.T) {
	cases := []struct {
		name    string
		opts    targettest.Options
		profile string
		want    outbound.Capabilities
		spcRead bool
	}{
		{"generic reads the SPC", targettest.Options{MaxResults: 50}, "generic",
			outbound.Capabilities{Patch: true, Filter: true, MaxMembersPerPatch: 1000, PathlessReplace: true, PageSize: 50}, true},
		{"generic without PATCH", targettest.Options{NoPatch: true}, "generic",
			outbound.Capabilities{Patch: false, Filter: true, MaxMembersPerPatch: 1000, PathlessReplace: true, PageSize: 100}, true},
		{"aws is the profile's", targettest.Options{AWS: true, MaxResults: 100}, "aws",
			outbound.Capabilities{Patch: true, Filter: true, FilterAttrs: []string{"displayName", "externalId", "userName"}, MaxMembersPerPatch: 100, PageSize: 100, GroupMembersHidden: true, SingleValues: true, UnsupportedUserAttrs: []string{"password", "ims", "photos", "entitlements", "x509Certificates"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Token = testToken
			tgt := targettest.New(t, tc.opts)
			c, _ := newClient(t, tgt, tc.profile)
			got, err := c.Capabilities(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("capabilities = %+v, want %+v", got, tc.want)
			}
			if _, err := c.Capabilities(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := 0
			if tc.spcRead {
				want = 1 // read once, then kept
			}
			if n := tgt.Count("GET", "/ServiceProviderConfig"); n != want {
				t.Fatalf("SPC read %d times, want %d", n, want)
			}
		})
	}
}

func TestClientTargetErrorFrom409(t *testing.T) {
	ctx := context.Background()
	tgt := targettest.New(t, targettest.Options{Token: testToken})
	tgt.AddUser(t, map[string]any{"userName": "Ann@Example.com"})
	c, s := newClient(t, tgt, "generic")
	_, err := c.Create(ctx, outbound.KindUsers, userBody("ann@example.com", ""))
	var te *outbound.TargetError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a TargetError", err)
	}
	if te.Status != http.StatusConflict || te.SCIMType != "uniqueness" || !strings.Contains(te.Detail, `"ann@example.com" is already taken`) ||
		te.Method != "POST" || te.Path != "/Users" {
		t.Fatalf("TargetError = %+v", te)
	}
	if errors.Is(err, outbound.ErrOutcomeUnknown) || len(s.all()) != 0 {
		t.Fatalf("a 409 is a final, known answer: %v, waits %v", err, s.all())
	}
	if want := "POST /Users: HTTP 409 uniqueness: userName"; !strings.HasPrefix(te.Error(), want) {
		t.Errorf("Error() = %q, want it to start %q", te.Error(), want)
	}
}

func TestClientAWSRefusesFilterLocally(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: testToken, AWS: true})
	c, _ := newClient(t, tgt, "aws")
	cases := []struct {
		kind, attr string
		ok         bool
	}{
		{outbound.KindUsers, "userName", true},
		{outbound.KindUsers, "externalId", true},
		{outbound.KindUsers, "displayName", false},
		{outbound.KindUsers, "emails.value", false},
		{outbound.KindGroups, "displayName", true},
		{outbound.KindGroups, "userName", false},
	}
	for _, tc := range cases {
		before := len(tgt.Requests())
		_, err := c.Find(context.Background(), tc.kind, tc.attr, "x")
		if tc.ok && err != nil {
			t.Errorf("find %s by %s: %v", tc.kind, tc.attr, err)
		}
		if !tc.ok {
			if err == nil || !strings.Contains(err.Error(), "aws profile filters") {
				t.Errorf("find %s by %s = %v, want a local refusal", tc.kind, tc.attr, err)
			}
			if len(tgt.Requests()) != before {
				t.Errorf("find %s by %s sent a request", tc.kind, tc.attr)
			}
		}
	}
}

func TestClientListGuards(t *testing.T) {
	t.Run("target ignores startIndex", func(t *testing.T) {
		// An AWS-like target does not page by startIndex; the generic
		// profile notices the repeated page instead of looping.
		tgt := targettest.New(t, targettest.Options{Token: testToken, AWS: true, MaxResults: 2})
		for i := range 5 {
			tgt.AddUser(t, map[string]any{"userName": fmt.Sprintf("u%d@example.com", i)})
		}
		c, _ := newClient(t, tgt, "generic")
		pages := 0
		err := c.List(context.Background(), outbound.KindUsers, func([]outbound.Remote) error { pages++; return nil })
		if err == nil || !strings.Contains(err.Error(), "does not page by startIndex") || pages != 1 {
			t.Fatalf("err = %v after %d pages", err, pages)
		}
	})
	t.Run("cursor that repeats", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/scim+json")
			fmt.Fprintf(w, `{"Resources":[{"id":"u-%d","userName":"x"}],"nextCursor":"same"}`, len(r.URL.RawQuery))
		}))
		defer srv.Close()
		p, _ := outbound.ProfileByName("aws")
		c, err := outbound.NewClient(outbound.ClientConfig{BaseURL: srv.URL, Profile: p, HTTPClient: srv.Client(),
			Auth: outbound.ClientAuth{PushAuth: bearerAuth, Token: "t"}})
		if err != nil {
			t.Fatal(err)
		}
		err = c.List(context.Background(), outbound.KindUsers, func([]outbound.Remote) error { return nil })
		if err == nil || !strings.Contains(err.Error(), `cursor "same" twice`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("too many pages", func(t *testing.T) {
		tgt := targettest.New(t, targettest.Options{Token: testToken, MaxResults: 1})
		for i := range 4 {
			tgt.AddUser(t, map[string]any{"userName": fmt.Sprintf("u%d@example.com", i)})
		}
		c, _ := newClient(t, tgt, "generic", func(cfg *outbound.ClientConfig) { cfg.MaxPages = 3 })
		if _, err := c.Capabilities(context.Background()); err != nil {
			t.Fatal(err)
		}
		err := c.List(context.Background(), outbound.KindUsers, func([]outbound.Remote) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "after 3") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("answer too large", func(t *testing.T) {
		tgt := targettest.New(t, targettest.Options{Token: testToken})
		tgt.AddUser(t, map[string]any{"userName": strings.Repeat("x", 300) + "@example.com"})
		c, s := newClient(t, tgt, "generic", func(cfg *outbound.ClientConfig) { cfg.MaxBody = 256 })
		err := c.List(context.Background(), outbound.KindUsers, func([]outbound.Remote) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "larger than 256 bytes") || len(s.all()) != 0 {
			t.Fatalf("err = %v, waits %v", err, s.all())
		}
	})
	t.Run("fn's error stops the list", func(t *testing.T) {
		tgt := targettest.New(t, targettest.Options{Token: testToken, MaxResults: 1})
		tgt.AddUser(t, map[string]any{"userName": "a@example.com"})
		tgt.AddUser(t, map[string]any{"userName": "b@example.com"})
		c, _ := newClient(t, tgt, "generic")
		stop := errors.New("stop")
		var seen []string
		err := c.List(context.Background(), outbound.KindUsers, func(rs []outbound.Remote) error { seen = append(seen, rs[0].UserName); return stop })
		if !errors.Is(err, stop) || !slices.Equal(seen, []string{"a@example.com"}) {
			t.Fatalf("err = %v, seen %v", err, seen)
		}
	})
}

func TestClientFindOnTargetWithoutFilters(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		fmt.Fprint(w, `{"patch":{"supported":true},"filter":{"supported":false,"maxResults":0}}`)
	}))
	defer srv.Close()
	c, err := outbound.NewClient(outbound.ClientConfig{BaseURL: srv.URL, HTTPClient: srv.Client(), Auth: outbound.ClientAuth{PushAuth: bearerAuth, Token: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	caps, err := c.Capabilities(context.Background())
	if err != nil || caps.Filter || !caps.Patch || caps.PageSize != 100 {
		t.Fatalf("capabilities = %+v, %v", caps, err)
	}
	if _, err := c.Find(context.Background(), outbound.KindUsers, "userName", "a"); err == nil || !strings.Contains(err.Error(), "does not filter") {
		t.Fatalf("find = %v, want a local refusal", err)
	}
}
