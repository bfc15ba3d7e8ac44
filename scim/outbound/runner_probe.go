package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// Test checks that an app's push can work, in the order an admin fixes
// things: the configuration (secrets, client), whether the target answers
// at all, whether it takes the credentials, and what it can do. A check
// that fails ends the report; the error is only for an app that cannot be
// tested (ErrNoPush, storage.ErrNotFound).
func (r *Runner) Test(ctx context.Context, appID string) (TestReport, error) {
	app, err := r.store.GetApp(ctx, appID)
	if err != nil {
		return TestReport{}, err
	}
	if app.Push == nil {
		return TestReport{}, ErrNoPush
	}
	rep := TestReport{OK: true}
	add := func(c TestCheck) bool {
		rep.Checks = append(rep.Checks, c)
		rep.OK = rep.OK && c.OK
		return c.OK
	}
	target, err := r.open(ctx, app)
	if !add(configCheck(app, err)) {
		return rep, nil
	}
	if c, ok := target.(io.Closer); ok {
		defer c.Close()
	}
	if !add(r.reachCheck(ctx, app.Push.URL)) {
		return rep, nil
	}
	auth, listErr := authCheck(ctx, app, target)
	if !add(auth) {
		return rep, nil
	}
	add(capabilitiesCheck(ctx, app, target, listErr))
	return rep, nil
}

func configCheck(app storage.App, openErr error) TestCheck {
	if openErr != nil {
		return TestCheck{Name: "config", Detail: openErr.Error()}
	}
	profile := app.Push.Profile
	if profile == "" {
		profile = "generic"
	}
	secrets := "no secrets"
	if len(app.Push.Secrets) > 0 {
		names := slices.Sorted(maps.Keys(app.Push.Secrets))
		secrets = "secrets opened: " + strings.Join(names, ", ")
	}
	return TestCheck{Name: "config", OK: true, Detail: fmt.Sprintf("profile %s, %s auth, %s", profile, app.Push.Auth.Type, secrets)}
}

// reachTimeout bounds the reach check: an admin waits for the answer.
const reachTimeout = 10 * time.Second

// reachCheck sends an unauthenticated GET of /ServiceProviderConfig
// (many targets serve it without credentials): any HTTP answer, even 401,
// shows the target is reachable; no answer is told apart by cause.
func (r *Runner) reachCheck(ctx context.Context, base string) TestCheck {
	check := TestCheck{Name: "reach"}
	spc := strings.TrimRight(base, "/") + "/ServiceProviderConfig"
	u, err := url.Parse(spc)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		check.Detail = fmt.Sprintf("the push URL %q is not an http(s) URL such as https://api.example.com/scim/v2", base)
		return check
	}
	ctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, spc, nil)
	if err != nil {
		check.Detail = fmt.Sprintf("cannot build a request for %s: %v", spc, err)
		return check
	}
	req.Header.Set("Accept", "application/scim+json")
	resp, err := r.httpClient.Do(req)
	if err != nil {
		check.Detail = describeDialError(u.Host, err, reachTimeout)
		return check
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	check.OK = true
	check.Detail = fmt.Sprintf("GET %s answered HTTP %d", spc, resp.StatusCode)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		check.Detail += " without credentials (they are checked next)"
	case resp.StatusCode == http.StatusNotFound:
		check.Detail += ": is the URL the SCIM base (it usually ends in /scim/v2)?"
	case resp.StatusCode >= 500:
		check.Detail += ": the target answers but reports an error of its own"
	}
	return check
}

// errFirstPage stops a listing after its first page.
var errFirstPage = errors.New("first page read")

// authCheck reads the first page of Users with the push's credentials:
// what every push needs and every target protects. A refusal fails the
// check; another error from the target is returned for the capabilities
// check (the credentials were not refused, but Users cannot be listed).
func authCheck(ctx context.Context, app storage.App, target Target) (TestCheck, error) {
	check := TestCheck{Name: "auth"}
	err := target.List(ctx, KindUsers, func([]Remote) error { return errFirstPage })
	if err == nil || errors.Is(err, errFirstPage) {
		check.OK, check.Detail = true, "the target accepted the credentials (GET /Users answered)"
		return check, nil
	}
	var te *TargetError
	var tokenErr *authError
	if errors.As(err, &tokenErr) {
		check.Detail = fmt.Sprintf("the token endpoint %s did not issue a token (%v): %s",
			app.Push.Auth.TokenURL, tokenErr.err, credentialsHint(app.Push.Auth))
		return check, nil
	}
	if !errors.As(err, &te) {
		host := app.Push.URL
		if u, perr := url.Parse(app.Push.URL); perr == nil {
			host = u.Host
		}
		check.Detail = "could not read Users with the credentials: " + describeDialError(host, err, 0)
		return check, nil
	}
	switch te.Status {
	case http.StatusUnauthorized:
		check.Detail = fmt.Sprintf("the target refused the credentials (HTTP 401 on %s %s): %s", te.Method, te.Path, credentialsHint(app.Push.Auth))
		if te.Detail != "" {
			check.Detail += " (the target said: " + te.Detail + ")"
		}
		return check, nil
	case http.StatusForbidden:
		check.Detail = fmt.Sprintf("the target took the credentials but does not let them read Users (HTTP 403 on %s %s): "+
			"give them the provisioning permission (read and write Users and Groups)", te.Method, te.Path)
		if te.Detail != "" {
			check.Detail += " (the target said: " + te.Detail + ")"
		}
		return check, nil
	}
	check.OK = true
	check.Detail = fmt.Sprintf("the credentials were not refused (%s %s answered HTTP %d)", te.Method, te.Path, te.Status)
	return check, err
}

// credentialsHint says what to fix for refused credentials of each kind.
func credentialsHint(a storage.PushAuth) string {
	if a.Type == storage.PushAuthOAuth2 {
		return fmt.Sprintf("check that clientId %q and its secret are right for this target and that scope %q grants SCIM provisioning",
			a.ClientID, a.Scope)
	}
	return "set the app's push token again (it may be expired, revoked, or for another tenant)"
}

// capabilitiesCheck compares what the target says it can do with what
// the push needs. Missing PATCH or filtering are passing notes (the push
// works around them); not being able to list Users fails.
func capabilitiesCheck(ctx context.Context, app storage.App, target Target, listErr error) TestCheck {
	check := TestCheck{Name: "capabilities"}
	if listErr != nil {
		check.Detail = fmt.Sprintf("the target cannot list Users (%v): a push lists them to claim the users already there and to find creates whose answer was lost", listErr)
		return check
	}
	caps, err := target.Capabilities(ctx)
	if err != nil {
		check.Detail = fmt.Sprintf("cannot read what the target supports (its /ServiceProviderConfig): %v", err)
		return check
	}
	var notes []string
	if caps.Patch && caps.Filter && len(caps.FilterAttrs) == 0 {
		notes = append(notes, "the target supports PATCH and filtering")
	}
	if !caps.Patch {
		notes = append(notes, "the target does not support PATCH: updates will be sent as PUT (the whole resource)")
	}
	switch {
	case !caps.Filter:
		notes = append(notes, "the target cannot filter: matching reads every user instead of asking for one")
	case len(caps.FilterAttrs) > 0:
		var unfilterable []string
		for _, m := range app.Push.Match {
			if !containsFold(caps.FilterAttrs, m) {
				unfilterable = append(unfilterable, m)
			}
		}
		if len(unfilterable) > 0 {
			notes = append(notes, fmt.Sprintf("the target filters only on %s: matching on %s reads every user instead",
				strings.Join(caps.FilterAttrs, ", "), strings.Join(unfilterable, ", ")))
		}
	}
	if caps.MaxMembersPerPatch > 0 {
		notes = append(notes, fmt.Sprintf("group membership is sent in batches of at most %d members", caps.MaxMembersPerPatch))
	}
	if len(notes) == 0 {
		notes = append(notes, "the target supports PATCH and filtering on what the push matches on")
	}
	check.OK, check.Detail = true, strings.Join(notes, "; ")
	return check
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
