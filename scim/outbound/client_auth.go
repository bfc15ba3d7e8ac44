package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scimgate/scimgate/storage"
)

// authorizer puts credentials on a request.
type authorizer interface {
	authorize(ctx context.Context, req *http.Request) error
	// refreshable: a 401 may be cured by fetching a new credential.
	refreshable() bool
	invalidate()
}

// authError is the token endpoint's refusal (a 4xx such as
// invalid_client): final, not retried. Its network errors and 5xx are
// retried like the target's.
type authError struct{ err error }

func (e *authError) Error() string { return "oauth2 token: " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

func newAuthorizer(a ClientAuth, hc *http.Client) (authorizer, error) {
	switch a.Type {
	case storage.PushAuthBearer:
		if strings.TrimSpace(a.Token) == "" {
			return nil, errors.New("push auth bearer: the token is empty")
		}
		return bearer(a.Token), nil
	case storage.PushAuthOAuth2:
		var missing []string
		if a.TokenURL == "" {
			missing = append(missing, "tokenURL")
		}
		if a.ClientID == "" {
			missing = append(missing, "clientId")
		}
		if a.ClientSecret == "" {
			missing = append(missing, "clientSecret")
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("push auth oauth2: %s required", strings.Join(missing, ", "))
		}
		if u, err := url.Parse(a.TokenURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("push auth oauth2: tokenURL %q must be an absolute http(s) URL", a.TokenURL)
		}
		cfg := &clientcredentials.Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, TokenURL: a.TokenURL, Scopes: strings.Fields(a.Scope)}
		return &oauth2Auth{cfg: cfg, http: hc}, nil
	}
	return nil, fmt.Errorf("push auth type %q: must be %q or %q", a.Type, storage.PushAuthBearer, storage.PushAuthOAuth2)
}

type bearer string

func (b bearer) authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+string(b))
	return nil
}
func (bearer) refreshable() bool { return false }
func (bearer) invalidate()       {}

// oauth2Auth fetches client-credentials tokens (RFC 6749 §4.4) and
// reuses one until it is about to expire or the target refuses it.
type oauth2Auth struct {
	cfg  *clientcredentials.Config
	http *http.Client

	mu  sync.Mutex // held while fetching, so concurrent requests share one fetch
	tok *oauth2.Token
}

func (o *oauth2Auth) authorize(ctx context.Context, req *http.Request) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.tok.Valid() {
		tok, err := o.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, o.http))
		var re *oauth2.RetrieveError
		switch {
		case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 500:
			// The identity provider's own hiccup: retried like the target's.
			return fmt.Errorf("oauth2 token: %w", err)
		case errors.As(err, &re):
			return &authError{err} // refused credentials: final
		case err != nil:
			return fmt.Errorf("oauth2 token: %w", err) // network: retried
		}
		o.tok = tok
	}
	o.tok.SetAuthHeader(req)
	return nil
}

func (o *oauth2Auth) refreshable() bool { return true }

func (o *oauth2Auth) invalidate() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tok = nil
}
