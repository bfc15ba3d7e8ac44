package okta

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Sentinels, for errors.Is. An *APIError unwraps to the one that fits.
var (
	// ErrUnauthorized: Okta refused the credentials (bad or expired API
	// token, wrong client id or key).
	ErrUnauthorized = errors.New("okta: the credentials were refused")
	// ErrForbidden: the credentials work but may not read users or groups
	// (missing scope or admin role).
	ErrForbidden = errors.New("okta: not allowed")
	// ErrNotFound: the object is gone (E0000007).
	ErrNotFound = errors.New("okta: not found")
	// ErrRateLimited: Okta answered 429 (E0000047) more often than the
	// client retries.
	ErrRateLimited = errors.New("okta: rate limited")
	// ErrRateLimitWait: finishing the run would mean waiting for rate
	// limits longer than maxRateLimitWait allows.
	ErrRateLimitWait = errors.New("okta: the run would wait too long for rate limits")
	// ErrNotOkta: the org URL answers, but not like an Okta org.
	ErrNotOkta = errors.New("the org URL does not answer like an Okta org")
	// ErrUnreachable: the org URL cannot be reached at all.
	ErrUnreachable = errors.New("cannot reach the org")
)

// Okta error codes we branch on (developer.okta.com/docs/reference/error-codes).
const (
	codeAuthFailed   = "E0000004"
	codeNoPermission = "E0000006"
	codeNotFound     = "E0000007"
	codeInvalidToken = "E0000011"
	codeRateLimit    = "E0000047"
)

// APIError is a non-2xx answer, from the management API (errorCode,
// errorSummary) or from the token endpoint (error, error_description).
type APIError struct {
	Status   int
	Code     string // E0000011, or an OAuth error such as invalid_scope
	Summary  string
	Causes   []string
	ErrorID  string
	Endpoint string // method and path, without the query
	// Challenge is the WWW-Authenticate header, which carries OAuth and
	// DPoP error details on 401 and 403.
	Challenge string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s answered %d", e.Endpoint, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Summary != "" {
		fmt.Fprintf(&b, " (%s", e.Summary)
		if len(e.Causes) > 0 {
			fmt.Fprintf(&b, ": %s", strings.Join(e.Causes, "; "))
		}
		b.WriteString(")")
	}
	if e.ErrorID != "" {
		fmt.Fprintf(&b, " [errorId %s]", e.ErrorID)
	}
	return b.String()
}

// Unwrap maps the answer to a sentinel.
func (e *APIError) Unwrap() error {
	switch {
	case e.Status == http.StatusTooManyRequests || e.Code == codeRateLimit:
		return ErrRateLimited
	case e.Code == codeNotFound:
		return ErrNotFound
	case e.Status == http.StatusUnauthorized, e.Code == codeInvalidToken, e.Code == codeAuthFailed, e.Code == "invalid_client":
		return ErrUnauthorized
	case e.Status == http.StatusForbidden, e.Code == "invalid_scope":
		return ErrForbidden
	}
	return nil
}

// readAPIError reads a failed response into an *APIError, or ErrNotOkta
// when the body is not one of Okta's JSON error shapes.
func readAPIError(resp *http.Response) error {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Status: resp.StatusCode, Endpoint: resp.Request.Method + " " + resp.Request.URL.Path,
		Challenge: resp.Header.Get("WWW-Authenticate")}
	var body struct {
		ErrorCode    string `json:"errorCode"`
		ErrorSummary string `json:"errorSummary"`
		ErrorID      string `json:"errorId"`
		ErrorCauses  []struct {
			ErrorSummary string `json:"errorSummary"`
		} `json:"errorCauses"`
		OAuthError  string `json:"error"`
		Description string `json:"error_description"`
	}
	if isJSON(resp.Header.Get("Content-Type")) && json.Unmarshal(raw, &body) == nil {
		e.Code, e.Summary, e.ErrorID = body.ErrorCode, body.ErrorSummary, body.ErrorID
		for _, c := range body.ErrorCauses {
			e.Causes = append(e.Causes, c.ErrorSummary)
		}
		if e.Code == "" {
			e.Code, e.Summary = body.OAuthError, body.Description
		}
	}
	if e.Code == "" {
		// DPoP errors on API calls come in the challenge, not the body.
		if code := challengeParam(e.Challenge, "error"); code != "" {
			e.Code, e.Summary = code, challengeParam(e.Challenge, "error_description")
			return e
		}
		if e.Status == http.StatusTooManyRequests {
			return e
		}
		return fmt.Errorf("%w: %s answered %d with %q", ErrNotOkta, e.Endpoint, e.Status, mediaType(resp.Header.Get("Content-Type")))
	}
	return e
}

func isJSON(contentType string) bool {
	mt := mediaType(contentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return contentType
	}
	return mt
}

// challengeParam reads one auth-param of a WWW-Authenticate header, such
// as error in `DPoP error="use_dpop_nonce", error_description="..."`.
func challengeParam(h, name string) string {
	i := strings.Index(h, name+"=")
	for i > 0 && h[i-1] != ' ' && h[i-1] != ',' {
		next := strings.Index(h[i+1:], name+"=")
		if next < 0 {
			return ""
		}
		i += 1 + next
	}
	if i < 0 {
		return ""
	}
	v := h[i+len(name)+1:]
	if strings.HasPrefix(v, `"`) {
		if end := strings.Index(v[1:], `"`); end >= 0 {
			return v[1 : 1+end]
		}
		return v[1:]
	}
	if end := strings.IndexAny(v, ", "); end >= 0 {
		return v[:end]
	}
	return v
}

// rateLimitWaitError says the run stopped rather than wait longer.
type rateLimitWaitError struct {
	waited, need, max time.Duration
	bucket            string
}

func (e *rateLimitWaitError) Error() string {
	return fmt.Sprintf("the %s rate limit is used up and the run has already waited %s; waiting %s more would pass maxRateLimitWait (%s), "+
		"so the run stopped and the next run starts again from the last saved position", e.bucket, e.waited.Round(time.Second), e.need.Round(time.Second), e.max)
}

func (e *rateLimitWaitError) Unwrap() error { return ErrRateLimitWait }

// explain turns an error from Test into plain words for an admin.
func explain(err error, cfg settings) error {
	var api *APIError
	switch {
	case errors.Is(err, ErrUnreachable), errors.Is(err, ErrNotOkta):
		return fmt.Errorf("%w (check orgURL: it should be your org's address, such as https://acme.okta.com)", err)
	case errors.As(err, &api) && api.Code == "invalid_scope":
		return fmt.Errorf("the service app may not use the scopes scimgate asks for (%s): grant them on the app's Okta API Scopes tab (%w)", scopes, err)
	case errors.As(err, &api) && api.Code == "invalid_client":
		return fmt.Errorf("Okta refused the client credentials: check clientId, that the app uses Public key / Private key authentication, and that privateKey (and keyId) match a key registered on the app (%w)", err)
	case errors.As(err, &api) && api.Code == "invalid_dpop_proof" && cfg.dpop == dpopOff:
		return fmt.Errorf("the service app requires DPoP (Require Demonstrating Proof of Possession): set dpop to auto or on (%w)", err)
	case errors.As(err, &api) && api.Status == http.StatusForbidden:
		what := "users"
		if strings.Contains(api.Endpoint, "/groups") {
			what = "groups"
		}
		if cfg.apiToken != "" {
			return fmt.Errorf("the API token may not read %s: the admin who created it needs at least the Read-only Administrator role (%w)", what, err)
		}
		return fmt.Errorf("the service app may not read %s: grant okta.%s.read on its Okta API Scopes tab and assign it an admin role such as Read-only Administrator (%w)", what, what, err)
	case errors.Is(err, ErrUnauthorized) && cfg.apiToken != "":
		return fmt.Errorf("Okta refused the API token: it is wrong, revoked or expired (tokens expire after 30 days unused); create one under Security > API > Tokens and paste it whole (%w)", err)
	case errors.Is(err, ErrUnauthorized):
		return fmt.Errorf("Okta refused the service app's access token (%w)", err)
	}
	return fmt.Errorf("okta: %w", err)
}
