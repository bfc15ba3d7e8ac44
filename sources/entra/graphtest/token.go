package graphtest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

type accessToken struct {
	expires time.Time
	roles   []string
}

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// serveToken is POST /{tenant}/oauth2/v2.0/token, the client-credentials
// grant (v2-oauth2-client-creds-grant-flow): form fields grant_type,
// client_id, scope and either client_secret (also accepted as HTTP Basic
// auth, RFC 6749 §2.3.1, URL-decoded as x/oauth2 URL-escapes it) or
// client_assertion_type + client_assertion (certificate-credentials).
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	tenant := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token")
	if r.Method != http.MethodPost {
		aadError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests.")
		return
	}
	if err := r.ParseForm(); err != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	f := r.PostForm
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		uu, err1 := url.QueryUnescape(u)
		pp, err2 := url.QueryUnescape(p)
		if err1 == nil && err2 == nil {
			clientID, secret = uu, pp
		}
	}
	switch {
	case tenant != s.opts.TenantID:
		aadError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	case f.Get("grant_type") != "client_credentials":
		aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	case clientID != s.opts.ClientID:
		aadError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, tenant))
		return
	}
	// Scope rules: {resource}/.default only, for this Graph (§1 scope rules).
	scope := f.Get("scope")
	switch {
	case !strings.HasSuffix(scope, "/.default"):
		aadError(w, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		return
	case strings.TrimSuffix(scope, "/.default") != s.URL():
		aadError(w, http.StatusBadRequest, "invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s.", strings.TrimSuffix(scope, "/.default"), tenant))
		return
	}
	if f.Get("client_assertion_type") == assertionType {
		if status, code, n, msg := s.checkAssertion(f.Get("client_assertion"), tenant); status != 0 {
			aadError(w, status, code, n, msg)
			return
		}
	} else if secret != s.opts.ClientSecret {
		aadError(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
		return
	}
	s.mu.Lock()
	life := s.opts.TokenLifetime()
	tok := "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(randomBytes(24))
	s.tokens[tok] = accessToken{expires: s.now().Add(life), roles: append([]string(nil), s.opts.Roles...)}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	secs := int(life / time.Second)
	json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok})
}

// aadError writes the identity platform's error body (§1 "Error body").
func aadError(w http.ResponseWriter, status int, code string, n int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	trace := newGUID()
	json.NewEncoder(w).Encode(map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", n, msg, trace, newGUID(), time.Now().UTC().Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{n},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    newGUID(),
		"error_uri":         "https://login.microsoftonline.com/error?code=" + fmt.Sprint(n),
	})
}

// checkAssertion validates a private_key_jwt client assertion
// (certificate-credentials): alg PS256 with x5t#S256, or the older RS256
// with x5t; aud is this token endpoint; iss and sub are the client id;
// nbf/exp bound it; a jti is accepted once. AADSTS numbers other than
// the signature one are [unverified].
func (s *Server) checkAssertion(jwt, tenant string) (int, string, int, string) {
	bad := func(n int, msg string) (int, string, int, string) {
		return http.StatusUnauthorized, "invalid_client", n, msg
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."
	}
	var hdr struct {
		Alg     string `json:"alg"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	var claims struct {
		Aud, Iss, Sub, Jti string
		Exp, Nbf           int64
	}
	if decodeSegment(parts[0], &hdr) != nil || decodeSegment(parts[1], &claims) != nil {
		return http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."
	}
	cert := s.opts.Certificate
	if cert == nil {
		return bad(700027, "Client assertion failed signature validation. [Reason - The key was not found.]")
	}
	s1, s256 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
	if hdr.X5tS256 != base64.RawURLEncoding.EncodeToString(s256[:]) && hdr.X5t != base64.RawURLEncoding.EncodeToString(s1[:]) {
		return bad(700027, "Client assertion failed signature validation. [Reason - The key was not found.]")
	}
	pub, _ := cert.PublicKey.(*rsa.PublicKey)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if pub == nil || err != nil {
		return bad(700027, "Client assertion failed signature validation.")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch hdr.Alg {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	default:
		return bad(5002738, fmt.Sprintf("Invalid JWT token. '%s' is not a supported signature algorithm.", hdr.Alg))
	}
	if err != nil {
		return bad(700027, "Client assertion failed signature validation.")
	}
	now := s.now().Unix()
	wantAud := s.URL() + "/" + tenant + "/oauth2/v2.0/token"
	switch {
	case claims.Aud != wantAud:
		return bad(700212, fmt.Sprintf("No matching federated identity record found for presented assertion audience '%s'.", claims.Aud))
	case claims.Iss != s.opts.ClientID || claims.Sub != s.opts.ClientID:
		return bad(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
	case claims.Exp <= now || claims.Nbf > now+300:
		return bad(700024, "Client assertion is not within its valid time range.")
	case claims.Jti == "":
		return bad(700020, "Client assertion must contain a jti claim.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jtis[claims.Jti] {
		return bad(700023, "Client assertion has been used before (jti replayed).")
	}
	s.jtis[claims.Jti] = true
	return 0, "", 0, ""
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// authorize checks the bearer token: absent, unknown or expired tokens
// get 401 InvalidAuthenticationToken (graph/errors).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, reqID string) (accessToken, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	s.mu.Lock()
	at, known := s.tokens[tok]
	now := s.now()
	s.mu.Unlock()
	msg := ""
	switch {
	case !ok || tok == "":
		msg = "Access token is empty."
	case !known:
		msg = "IDX14100: JWT is not well formed, there are no dots (.)."
	case !now.Before(at.expires):
		msg = "Lifetime validation failed, the token is expired."
	default:
		return at, true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	graphError(w, reqID, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
	return accessToken{}, false
}

// requireRole checks application permissions: users need User.Read.All
// or higher (user-list, user-delta); groups and members need
// GroupMember.Read.All, Group.Read.All or higher (group-delta). Missing
// ones get 403 Authorization_RequestDenied.
func (s *Server) requireRole(w http.ResponseWriter, reqID string, at accessToken, collection string) bool {
	ok := []string{"Directory.Read.All", "Directory.ReadWrite.All"}
	if collection == "users" {
		ok = append(ok, "User.Read.All", "User.ReadWrite.All")
	} else {
		ok = append(ok, "GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All")
	}
	for _, r := range at.roles {
		if slices.Contains(ok, r) {
			return true
		}
	}
	graphError(w, reqID, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	return false
}
