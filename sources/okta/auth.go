package okta

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// scopes are what a service app asks for: read-only users and groups.
const scopes = "okta.users.read okta.groups.read"

// authorizer puts credentials on API requests.
type authorizer interface {
	authorize(ctx context.Context, req *http.Request) error
	// retry is told about a failed API answer and reports whether the same
	// request is worth sending again (a DPoP nonce arrived, or an expired
	// access token was dropped).
	retry(resp *http.Response, apiErr error) bool
}

// sswsAuth is an API token: "Authorization: SSWS <token>" (cloud-apis 6).
type sswsAuth struct{ token string }

func (a sswsAuth) authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "SSWS "+a.token)
	return nil
}

func (sswsAuth) retry(*http.Response, error) bool { return false }

// oauthAuth is an API Services app: client credentials with a
// private_key_jwt assertion against the org authorization server
// ({orgURL}/oauth2/v1/token, never /oauth2/default), optionally with DPoP.
//
// DPoP (RFC 9449), as Okta runs it for service apps:
//  1. in auto mode the token request first goes without a proof; an app
//     with "Require DPoP" (the default for apps created since 2024)
//     answers 400 invalid_dpop_proof, and the request is repeated with one;
//  2. a proof without a nonce gets 400 use_dpop_nonce and a DPoP-Nonce
//     header; the request is repeated with that nonce in the proof;
//  3. the token then comes back as token_type DPoP, and every API call
//     carries "Authorization: DPoP <token>" plus a fresh proof with htm,
//     htu (the URL without its query), iat, jti and ath (the token's hash).
//
// The proof key is a P-256 key made when the source opens, separate from
// the app's private key.
type oauthAuth struct {
	c        *client
	clientID string
	assert   *signer // the app's key
	kid      string
	tokenURL string
	mode     string
	proofKey *signer

	mu        sync.Mutex
	token     string
	tokenType string
	expires   time.Time
	useDPoP   bool
	authNonce string // DPoP-Nonce from the token endpoint
	apiNonce  string // DPoP-Nonce from the resource server, if it ever asks
}

func newOAuth(c *client, s settings) (*oauthAuth, error) {
	assert, err := newSigner(s.key)
	if err != nil {
		return nil, fmt.Errorf("okta: privateKey: %w", err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("okta: make a DPoP key: %w", err)
	}
	proof, _ := newSigner(ek)
	return &oauthAuth{c: c, clientID: s.clientID, assert: assert, kid: s.keyID,
		tokenURL: s.org.String() + "/oauth2/v1/token", mode: s.dpop, proofKey: proof, useDPoP: s.dpop == dpopOn}, nil
}

func (a *oauthAuth) authorize(ctx context.Context, req *http.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	// Renew five minutes early: Okta's tokens live exactly an hour.
	if a.token == "" || !a.c.clock.Now().Before(a.expires.Add(-5*time.Minute)) {
		if err := a.fetch(ctx); err != nil {
			return err
		}
	}
	if !strings.EqualFold(a.tokenType, "DPoP") {
		req.Header.Set("Authorization", "Bearer "+a.token)
		return nil
	}
	proof, err := a.proof(req.Method, htu(req.URL), a.token, a.apiNonce)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "DPoP "+a.token)
	req.Header.Set("DPoP", proof)
	return nil
}

func (a *oauthAuth) retry(resp *http.Response, apiErr error) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	challenge := resp.Header.Get("WWW-Authenticate")
	if nonce := resp.Header.Get("DPoP-Nonce"); nonce != "" && challengeParam(challenge, "error") == "use_dpop_nonce" {
		a.apiNonce = nonce
		return true
	}
	if resp.StatusCode == http.StatusUnauthorized && a.token != "" {
		a.token = "" // expired or revoked early: fetch a new one
		return true
	}
	return false
}

// fetch gets an access token; a.mu is held.
func (a *oauthAuth) fetch(ctx context.Context) error {
	for attempt := 0; attempt < 6; attempt++ {
		resp, err := a.requestToken(ctx)
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusOK {
			return a.readToken(resp)
		}
		nonce := resp.Header.Get("DPoP-Nonce")
		err = readAPIError(resp)
		apiErr, _ := err.(*APIError)
		switch {
		case apiErr == nil:
			return err
		case apiErr.Code == "invalid_dpop_proof" && !a.useDPoP && a.mode == dpopAuto:
			a.useDPoP = true // the app requires DPoP
		case apiErr.Code == "use_dpop_nonce" && a.useDPoP && nonce != "":
			a.authNonce = nonce
		case apiErr.Status == http.StatusTooManyRequests:
			// the limiter waits for the reset before the next attempt
		default:
			return fmt.Errorf("get an access token: %w", err)
		}
	}
	return fmt.Errorf("get an access token: gave up after repeated retries")
}

func (a *oauthAuth) requestToken(ctx context.Context) (*http.Response, error) {
	now := a.c.clock.Now()
	header := map[string]any{"typ": "JWT"}
	if a.kid != "" {
		header["kid"] = a.kid
	}
	// Okta accepts an assertion living at most an hour; five minutes is plenty.
	assertion, err := a.assert.sign(header, map[string]any{
		"iss": a.clientID, "sub": a.clientID, "aud": a.tokenURL,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": randomID(),
	})
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {scopes},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if a.useDPoP {
		proof, err := a.proof(http.MethodPost, a.tokenURL, "", a.authNonce)
		if err != nil {
			return nil, err
		}
		req.Header.Set("DPoP", proof)
	}
	return a.c.send(ctx, req)
}

func (a *oauthAuth) readToken(resp *http.Response) error {
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		return fmt.Errorf("%w: the token endpoint's answer has no access_token", ErrNotOkta)
	}
	if body.ExpiresIn <= 0 {
		body.ExpiresIn = 3600
	}
	a.token, a.tokenType = body.AccessToken, body.TokenType
	a.expires = a.c.clock.Now().Add(time.Duration(body.ExpiresIn) * time.Second)
	return nil
}

// proof builds a DPoP proof JWT; accessToken is "" on the token request.
func (a *oauthAuth) proof(method, target, accessToken, nonce string) (string, error) {
	claims := map[string]any{"htm": method, "htu": target, "iat": a.c.clock.Now().Unix(), "jti": randomID()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64.EncodeToString(sum[:])
	}
	return a.proofKey.sign(map[string]any{"typ": "dpop+jwt", "jwk": a.proofKey.publicJWK()}, claims)
}

// htu is the URL a proof names: scheme, host and the decoded path, no
// query (Okta compares the decoded form; okta-sdk-python issue 541).
func htu(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.Path
}
