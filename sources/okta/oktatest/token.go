package oktatest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// token serves POST /oauth2/v1/token for service apps (see auth.go for
// the rules and their sources) and returns the status it wrote.
func (s *Server) token(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodPost {
		return writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "The token endpoint accepts POST only.")
	}
	if err := r.ParseForm(); err != nil {
		return writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body is not a form.")
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		return writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "The grant_type is not supported for this client.")
	}
	if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || r.PostForm.Get("client_assertion") == "" {
		return writeOAuthError(w, http.StatusUnauthorized, "invalid_client",
			"Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tokenURL := s.URL + "/oauth2/v1/token"
	a, err := parseJWT(r.PostForm.Get("client_assertion"))
	if err != nil {
		return writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "The client_assertion is not a valid JWT.")
	}
	app, ok := s.auth.apps[a.str(a.claims, "iss")]
	now := s.clock.Now()
	switch {
	case !ok || a.str(a.claims, "sub") != app.ClientID:
		return writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "The client_assertion token has an invalid issuer or subject.")
	case a.str(a.claims, "aud") != tokenURL:
		return writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "The audience of the client_assertion token is invalid.")
	case a.num("exp") <= now.Unix() || a.num("exp") > now.Add(time.Hour).Unix()+60:
		return writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "The client_assertion token is expired or expires more than an hour ahead.")
	case app.KeyID != "" && a.str(a.header, "kid") != "" && a.str(a.header, "kid") != app.KeyID:
		return writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "The client_assertion kid does not match a key of the client.")
	case a.verify(app.PublicKey) != nil:
		return writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "The client_assertion signature is invalid.")
	case a.str(a.claims, "jti") != "" && s.auth.jtis["assert:"+a.str(a.claims, "jti")]:
		return writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "The client_assertion token has already been used.")
	}
	if jti := a.str(a.claims, "jti"); jti != "" {
		s.auth.jtis["assert:"+jti] = true
	}
	requested := strings.Fields(r.PostForm.Get("scope"))
	var missing []string
	for _, sc := range requested {
		if !slices.Contains(app.Scopes, sc) {
			missing = append(missing, sc)
		}
	}
	if len(requested) == 0 || len(missing) > 0 {
		return writeOAuthError(w, http.StatusBadRequest, "invalid_scope",
			"The following scopes were requested, but not granted: "+strings.Join(missing, " ")+".")
	}
	proof := r.Header.Get("DPoP")
	jkt := ""
	switch {
	case proof == "" && app.RequireDPoP:
		return writeOAuthError(w, http.StatusBadRequest, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
	case proof != "":
		if msg := s.checkProofLocked(r, "", ""); msg != "" {
			return writeOAuthError(w, http.StatusBadRequest, "invalid_dpop_proof", msg)
		}
		p, _ := parseJWT(proof)
		if p.str(p.claims, "nonce") != s.auth.nonce {
			w.Header().Set("DPoP-Nonce", s.auth.nonce)
			return writeOAuthError(w, http.StatusBadRequest, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
		}
		jkt = proofThumbprint(proof)
	}
	token := randomString(40)
	s.auth.access[token] = &accessToken{clientID: app.ClientID, scopes: requested, expires: now.Add(time.Hour), jkt: jkt}
	typ := "Bearer"
	if jkt != "" {
		typ = "DPoP"
	}
	writeJSON(w, http.StatusOK, map[string]any{"token_type": typ, "expires_in": 3600, "access_token": token, "scope": strings.Join(requested, " ")})
	return http.StatusOK
}
