package outbound_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/scim/outbound/targettest"
	"github.com/scimgate/scimgate/storage"
)

// openClient opens targets with the real SCIM client, never waiting
// between its retries.
func openClient(ctx context.Context, app storage.App, secrets map[string]string) (outbound.Target, error) {
	profile, _ := outbound.ProfileByName(app.Push.Profile)
	return outbound.NewClient(outbound.ClientConfig{
		BaseURL: app.Push.URL, Profile: profile,
		Auth: outbound.ClientAuth{PushAuth: app.Push.Auth, Token: secrets[storage.PushSecretToken],
			ClientSecret: secrets[storage.PushSecretClientSecret]},
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	})
}

// dialFails is an HTTP client whose every dial fails with err.
func dialFails(err error) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, err }}}
}

// closedPort is an address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestTestReportSaysPreciselyWhatFails(t *testing.T) {
	const token = "s3cret" // what newEnv seals
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plainSrv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plainSrv.Close)
	type check struct {
		name string
		ok   bool
	}
	passes := []check{{"config", true}, {"reach", true}, {"auth", true}, {"capabilities", true}}
	for _, tc := range []struct {
		name   string
		opts   targettest.Options
		faults []targettest.Fault
		url    func(tgt *targettest.Target) string // default the emulator's
		client *http.Client                        // the reach check's
		want   []check
		detail string // in the last check's detail
	}{
		{name: "a good target", opts: targettest.Options{Token: token}, want: passes,
			detail: "the target supports PATCH and filtering"},
		{name: "a target without PATCH", opts: targettest.Options{Token: token, NoPatch: true}, want: passes,
			detail: "the target does not support PATCH: updates will be sent as PUT"},
		{name: "a refused token", opts: targettest.Options{Token: "another"},
			want:   []check{{"config", true}, {"reach", true}, {"auth", false}},
			detail: "the target refused the credentials (HTTP 401 on GET"},
		{name: "a token without permission", opts: targettest.Options{Token: token},
			faults: []targettest.Fault{{Times: 10, Status: http.StatusForbidden, PathPrefix: "/Users"}},
			want:   []check{{"config", true}, {"reach", true}, {"auth", false}},
			detail: "does not let them read Users (HTTP 403 on GET"},
		{name: "a target that cannot list Users", opts: targettest.Options{Token: token},
			faults: []targettest.Fault{{Times: 10, Status: http.StatusNotFound, PathPrefix: "/Users"}},
			want:   []check{{"config", true}, {"reach", true}, {"auth", true}, {"capabilities", false}},
			detail: "the target cannot list Users"},
		{name: "nothing listens", url: func(*targettest.Target) string { return "http://" + closedPort(t) + "/scim/v2" },
			want: []check{{"config", true}, {"reach", false}}, detail: "connection refused by 127.0.0.1:"},
		{name: "an untrusted certificate", url: func(*targettest.Target) string { return tlsSrv.URL + "/scim/v2" },
			want: []check{{"config", true}, {"reach", false}}, detail: "signed by an authority this host does not trust"},
		{name: "plain HTTP behind an https URL", url: func(*targettest.Target) string {
			return strings.Replace(plainSrv.URL, "http://", "https://", 1) + "/scim/v2"
		}, want: []check{{"config", true}, {"reach", false}}, detail: "did not answer TLS"},
		{name: "a name that does not resolve", url: func(*targettest.Target) string { return "https://scim.nowhere.example/scim/v2" },
			client: dialFails(&net.DNSError{Err: "no such host", Name: "scim.nowhere.example", IsNotFound: true}),
			want:   []check{{"config", true}, {"reach", false}}, detail: "DNS: the host name scim.nowhere.example does not exist"},
		{name: "no answer in time", url: func(*targettest.Target) string { return "https://scim.slow.example/scim/v2" },
			client: dialFails(&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}),
			want:   []check{{"config", true}, {"reach", false}}, detail: "timeout: no answer from scim.slow.example within 10s"},
		{name: "not an http URL", url: func(*targettest.Target) string { return "ftp://files.example.com/scim" },
			want: []check{{"config", false}}, detail: "must be an absolute http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := targettest.New(t, tc.opts)
			for _, f := range tc.faults {
				tgt.Inject(f)
			}
			url := tgt.URL()
			if tc.url != nil {
				url = tc.url(tgt)
			}
			e := newEnv(t, storage.PushConfig{URL: url, Match: []string{"userName"}})
			r := e.newRunner(outbound.RunnerOptions{OpenTarget: openClient, HTTPClient: tc.client})
			rep, err := r.Test(context.Background(), e.app.ID)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", rep.Checks)
			var got []check
			for _, c := range rep.Checks {
				got = append(got, check{c.Name, c.OK})
			}
			wantOK := tc.want[len(tc.want)-1].ok
			if !equalChecks(got, tc.want) || rep.OK != wantOK {
				t.Fatalf("checks = %+v (ok %v), want %+v", rep.Checks, rep.OK, tc.want)
			}
			if last := rep.Checks[len(rep.Checks)-1]; !strings.Contains(last.Detail, tc.detail) {
				t.Errorf("%s: detail = %q, want it to say %q", last.Name, last.Detail, tc.detail)
			}
		})
	}
}

func equalChecks[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// tokenEndpoint is an OAuth 2.0 token endpoint (RFC 6749 §4.4, client
// credentials) that issues token to client "cid" with secret
// "client-s3cret" and answers 401 invalid_client (§5.2) otherwise.
func tokenEndpoint(t *testing.T, token string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if id != "cid" || secret != "client-s3cret" || r.PostFormValue("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		io.WriteString(w, `{"access_token":"`+token+`","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/oauth2/token"
}

func TestTestReportForOAuth2Credentials(t *testing.T) {
	for _, tc := range []struct {
		name     string
		clientID string
		ok       bool
		detail   string
	}{
		{"a client the endpoint knows", "cid", true, "the target accepted the credentials"},
		{"a client it does not know", "someone-else", false, "did not issue a token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := targettest.New(t, targettest.Options{Token: "issued-token"})
			e := newEnv(t, storage.PushConfig{URL: tgt.URL(), Auth: storage.PushAuth{Type: storage.PushAuthOAuth2,
				TokenURL: tokenEndpoint(t, "issued-token"), ClientID: tc.clientID, Scope: "scim"}})
			rep, err := e.newRunner(outbound.RunnerOptions{OpenTarget: openClient}).Test(context.Background(), e.app.ID)
			if err != nil {
				t.Fatal(err)
			}
			auth := rep.Checks[len(rep.Checks)-1]
			if tc.ok {
				auth = rep.Checks[2]
			}
			if rep.OK != tc.ok || auth.Name != "auth" || !strings.Contains(auth.Detail, tc.detail) {
				t.Errorf("report = %+v", rep)
			}
			if !tc.ok && !strings.Contains(auth.Detail, `clientId "someone-else"`) {
				t.Errorf("auth detail does not name the client: %q", auth.Detail)
			}
		})
	}
}
