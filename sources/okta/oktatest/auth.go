package oktatest

import (
	"crypto"
	"crypto/sha256"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Authentication as Okta documents it (cloud-apis 6):
//
//   - API tokens: "Authorization: SSWS <token>"; an unknown token gets
//     401 E0000011 "Invalid token provided"; a token whose admin has no
//     admin role gets 403 E0000006.
//   - service apps: POST /oauth2/v1/token with grant_type
//     client_credentials and a private_key_jwt assertion (iss = sub =
//     client_id, aud = the token URL, exp at most an hour ahead, jti not
//     reused) ("Implement OAuth for Okta with a service app"; a client
//     secret is refused with invalid_client, support article "Client
//     Credentials requests to the Org Authorization Server must use the
//     private_key_jwt token_endpoint_auth_method").
//   - requested scopes must be granted to the app, else 400 invalid_scope
//     (the wording of the description is not verified); an API call
//     outside the token's scopes gets 403 E0000006 with a Bearer
//     insufficient_scope challenge (RFC 6750 3.1).
//   - an app requiring DPoP answers a token request without a proof with
//     400 invalid_dpop_proof "The DPoP proof JWT header is missing."
//     (Okta support article of that title; okta-sdk-dotnet issue 697), and
//     a proof without the server's nonce with 400 use_dpop_nonce and a
//     DPoP-Nonce header (devforum.okta.com thread 30239). The token is then
//     token_type DPoP, bound to the proof key's thumbprint, and each API
//     call needs "Authorization: DPoP <token>" and a proof whose htm,
//     htu (decoded path, no query), ath and key match; a bad proof gets
//     400 with WWW-Authenticate: DPoP error="invalid_dpop_proof"
//     (okta-sdk-python issue 541).
//   - a proof sent for an app that does not require DPoP still binds the
//     token (RFC 9449 lets the server do so; what Okta does here is not
//     verified).
//   - access tokens live one hour.

// ServiceApp is an API Services app registered with the org.
type ServiceApp struct {
	ClientID  string
	PublicKey crypto.PublicKey
	// KeyID, when set, must match the assertion's kid.
	KeyID string
	// Scopes granted to the app, e.g. okta.users.read.
	Scopes []string
	// RequireDPoP is the app's "Require DPoP header in token requests",
	// on by default for apps created since 2024.
	RequireDPoP bool
}

type authState struct {
	tokens map[string]bool // API token -> has an admin role
	apps   map[string]ServiceApp
	access map[string]*accessToken
	jtis   map[string]bool // seen assertion and proof ids
	nonce  string
}

type accessToken struct {
	clientID string
	scopes   []string
	expires  time.Time
	jkt      string // DPoP key thumbprint; "" for a Bearer token
}

func newAuthState() authState {
	return authState{tokens: map[string]bool{}, apps: map[string]ServiceApp{}, access: map[string]*accessToken{},
		jtis: map[string]bool{}, nonce: randomString(22)}
}

// AddAPIToken registers an API token; admin false models a token whose
// creator lost the admin roles needed to read users and groups.
func (s *Server) AddAPIToken(token string, admin bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth.tokens[token] = admin
}

// AddServiceApp registers an API Services app.
func (s *Server) AddServiceApp(app ServiceApp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth.apps[app.ClientID] = app
}

// RevokeAccessTokens invalidates every OAuth access token, as an admin
// revoking them (or their early expiry) would.
func (s *Server) RevokeAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.auth.access)
}

// RotateDPoPNonce makes the server ask for a fresh nonce.
func (s *Server) RotateDPoPNonce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth.nonce = randomString(22)
}

// caller is who an API request authenticated as.
type caller struct {
	apiToken bool
	scopes   []string
}

// authenticate checks an API request's credentials; on failure it has
// written the answer and returns its status.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (caller, int) {
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch scheme {
	case "SSWS":
		admin, ok := s.auth.tokens[cred]
		if !ok {
			return caller{}, writeError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
		}
		if !admin {
			return caller{}, writeError(w, http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
		}
		return caller{apiToken: true}, 0
	case "Bearer", "DPoP":
		t, ok := s.auth.access[cred]
		if !ok || !s.clock.Now().Before(t.expires) {
			w.Header().Set("WWW-Authenticate", scheme+` error="invalid_token", error_description="The access token is invalid."`)
			return caller{}, writeError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
		}
		if (scheme == "DPoP") != (t.jkt != "") {
			w.Header().Set("WWW-Authenticate", scheme+` error="invalid_token", error_description="The token type does not match the authorization scheme."`)
			return caller{}, writeError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
		}
		if t.jkt != "" {
			if msg := s.checkProofLocked(r, cred, t.jkt); msg != "" {
				w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof", error_description="`+msg+`"`)
				w.WriteHeader(http.StatusBadRequest)
				return caller{}, http.StatusBadRequest
			}
		}
		return caller{scopes: t.scopes}, 0
	}
	return caller{}, writeError(w, http.StatusForbidden, "E0000005", "Invalid session")
}

// allowed checks a token's scopes for a path (read scopes; manage ones
// include read).
func (c caller) allowed(path string) (scope string, ok bool) {
	if c.apiToken {
		return "", true
	}
	scope = "okta.users.read"
	if strings.HasPrefix(path, "/api/v1/groups") {
		scope = "okta.groups.read"
	}
	manage := strings.TrimSuffix(scope, ".read") + ".manage"
	return scope, slices.Contains(c.scopes, scope) || slices.Contains(c.scopes, manage)
}

// checkProofLocked verifies a DPoP proof for a request; "" means good.
func (s *Server) checkProofLocked(r *http.Request, accessToken, jkt string) string {
	raw := r.Header.Get("DPoP")
	if raw == "" {
		return "The DPoP proof JWT header is missing."
	}
	p, err := parseJWT(raw)
	if err != nil {
		return "The DPoP proof JWT is malformed."
	}
	if p.str(p.header, "typ") != "dpop+jwt" {
		return "The DPoP proof JWT has the wrong typ."
	}
	pub, thumb, err := jwkKey(p.header["jwk"])
	if err != nil || p.verify(pub) != nil {
		return "The DPoP proof JWT signature is invalid."
	}
	if p.str(p.claims, "htm") != r.Method {
		return "'htm' claim in the DPoP proof JWT is invalid."
	}
	if p.str(p.claims, "htu") != s.URL+r.URL.Path {
		return "'htu' claim in the DPoP proof JWT is invalid."
	}
	if d := s.clock.Now().Unix() - p.num("iat"); d > 300 || d < -300 {
		return "'iat' claim in the DPoP proof JWT is out of range."
	}
	jti := p.str(p.claims, "jti")
	if jti == "" || s.auth.jtis["dpop:"+jti] {
		return "'jti' claim in the DPoP proof JWT was already used."
	}
	s.auth.jtis["dpop:"+jti] = true
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if p.str(p.claims, "ath") != b64.EncodeToString(sum[:]) {
			return "'ath' claim in the DPoP proof JWT is invalid."
		}
		if thumb != jkt {
			return "The DPoP proof key does not match the access token."
		}
	}
	return ""
}

// proofThumbprint is the key thumbprint of a token request's proof.
func proofThumbprint(raw string) string {
	p, err := parseJWT(raw)
	if err != nil {
		return ""
	}
	_, thumb, _ := jwkKey(p.header["jwk"])
	return thumb
}
