package entra

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scimgate/scimgate/sources"
)

// refreshAhead is how long before expiry a token is replaced, so a long
// page walk never starts a request with a token about to lapse.
const refreshAhead = 5 * time.Minute

// tokenSource hands out access tokens for Graph: client credentials via
// x/oauth2, cached, refreshed ahead of expiry and after Graph refuses one
// (401).
type tokenSource struct {
	cfg   *Config
	http  *http.Client
	clock sources.Clock
	// upstream is told the outcome of every token request.
	upstream sources.UpstreamObserver
	// key and cert are set for private_key_jwt.
	key  *rsa.PrivateKey
	cert *x509.Certificate

	mu      sync.Mutex
	current string
	expires time.Time
}

func newTokenSource(cfg *Config, hc *http.Client, env sources.Env) (*tokenSource, error) {
	ts := &tokenSource{cfg: cfg, http: hc, clock: env.Clock, upstream: env.Upstream}
	if cfg.ClientSecret == "" {
		key, cert, ferr := cfg.keyPair()
		if ferr != nil {
			return nil, fmt.Errorf("entra: %s: %s", ferr.field, ferr.msg)
		}
		ts.key, ts.cert = key, cert
	}
	return ts, nil
}

func (ts *tokenSource) tokenURL() string {
	return ts.cfg.loginURL() + "/" + url.PathEscape(ts.cfg.TenantID) + "/oauth2/v2.0/token"
}

// token returns a valid access token, fetching a new one when there is
// none or it expires within refreshAhead.
func (ts *tokenSource) token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.current != "" && ts.clock.Now().Add(refreshAhead).Before(ts.expires) {
		return ts.current, nil
	}
	tok, err := ts.fetch(ctx)
	if err != nil {
		return "", err
	}
	ts.current = tok.AccessToken
	// expires_in is relative to now: use our clock, not x/oauth2's.
	ts.expires = ts.clock.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	if tok.ExpiresIn == 0 {
		ts.expires = ts.clock.Now().Add(refreshAhead + time.Minute)
	}
	return ts.current, nil
}

// invalidate drops a token Graph refused, unless a newer one replaced it.
func (ts *tokenSource) invalidate(tok string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.current == tok {
		ts.current = ""
	}
}

// fetch runs the client-credentials grant. The secret goes in the form
// (AuthStyleInParams: no probing with Basic first); a certificate
// credential sends a freshly signed assertion every time, since an
// assertion expires (certificate-credentials).
func (ts *tokenSource) fetch(ctx context.Context) (*oauth2.Token, error) {
	cc := clientcredentials.Config{
		ClientID:  ts.cfg.ClientID,
		TokenURL:  ts.tokenURL(),
		Scopes:    []string{ts.cfg.scope()},
		AuthStyle: oauth2.AuthStyleInParams,
	}
	if ts.key == nil {
		cc.ClientSecret = ts.cfg.ClientSecret
	} else {
		assertion, err := ts.assertion()
		if err != nil {
			return nil, err
		}
		cc.EndpointParams = url.Values{
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion},
		}
	}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, ts.http))
	ts.upstream.ObserveUpstream(tokenOutcome(err))
	if err != nil {
		return nil, tokenError(ts.cfg, err)
	}
	return tok, nil
}

// assertion signs a client assertion: PS256 with the certificate's
// SHA-256 thumbprint in x5t#S256, aud the token endpoint, iss and sub the
// client id, a unique jti, valid for ten minutes (certificate-credentials).
func (ts *tokenSource) assertion() (string, error) {
	thumb := sha256.Sum256(ts.cert.Raw)
	header, _ := json.Marshal(map[string]string{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.RawURLEncoding.EncodeToString(thumb[:])})
	now := ts.clock.Now()
	jti := make([]byte, 16)
	rand.Read(jti)
	claims, _ := json.Marshal(map[string]any{
		"aud": ts.tokenURL(), "iss": ts.cfg.ClientID, "sub": ts.cfg.ClientID,
		"jti": base64.RawURLEncoding.EncodeToString(jti),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPSS(rand.Reader, ts.key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		return "", fmt.Errorf("entra: sign the client assertion: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// AuthError is a token request the identity platform refused, in words
// an admin can act on.
type AuthError struct {
	Code   string // e.g. invalid_client
	AADSTS int    // e.g. 7000215
	Advice string
	Err    error
}

func (e *AuthError) Error() string { return "entra: sign-in failed: " + e.Advice }
func (e *AuthError) Unwrap() error { return e.Err }

// tokenError explains a failed token request by its AADSTS number.
// tokenOutcome classifies a token request for the upstream metrics: the
// endpoint's answer when it gave one, else the transport's failure.
func tokenOutcome(err error) sources.UpstreamOutcome {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return sources.HTTPOutcome(re.Response, nil)
	}
	return sources.HTTPOutcome(&http.Response{StatusCode: http.StatusOK}, err)
}

func tokenError(cfg *Config, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return &unreachableError{fmt.Sprintf("entra: cannot reach the token endpoint %s", cfg.loginURL()), err}
	}
	var body struct {
		ErrorCodes []int `json:"error_codes"`
	}
	json.Unmarshal(re.Body, &body)
	n := 0
	if len(body.ErrorCodes) > 0 {
		n = body.ErrorCodes[0]
	}
	advice := ""
	switch n {
	case 7000215:
		advice = "the client secret is wrong: use the secret's Value (not its Secret ID) from App registrations > Certificates & secrets"
	case 7000222:
		advice = "the client secret has expired: create a new one under App registrations > Certificates & secrets"
	case 700016:
		advice = fmt.Sprintf("no application with client id %s exists in tenant %s: check clientId and tenantId", cfg.ClientID, cfg.TenantID)
	case 90002, 900023:
		advice = fmt.Sprintf("tenant %s was not found: check tenantId (and loginURL for national clouds)", cfg.TenantID)
	case 700027, 700024, 700023, 700021, 50027:
		advice = "the certificate credential was refused: upload this certificate to the app registration (Certificates & secrets) and check the server's clock"
	case 1002012, 70011, 500011:
		advice = fmt.Sprintf("the scope %s was refused: it must be the Graph root of the same cloud followed by /.default", cfg.scope())
	default:
		// The description starts with the AADSTS number already.
		return &AuthError{Code: re.ErrorCode, AADSTS: n, Advice: fmt.Sprintf("%s: %s", re.ErrorCode, re.ErrorDescription), Err: err}
	}
	if n != 0 {
		advice += fmt.Sprintf(" (AADSTS%d)", n)
	}
	return &AuthError{Code: re.ErrorCode, AADSTS: n, Advice: advice, Err: err}
}
