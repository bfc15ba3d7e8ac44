package entra

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// GraphError is an error answer from Microsoft Graph. Code is the
// machine-readable code to branch on, never Message (graph/errors).
type GraphError struct {
	Method    string
	Path      string // without the query: state tokens stay out of logs
	Status    int
	Code      string
	Message   string
	RequestID string
	// Location is set on a 410 Gone: where a full resync starts.
	Location string
	// Attempts is how many times the request was sent.
	Attempts int
}

func (e *GraphError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request-id %s]", e.RequestID)
	}
	return b.String()
}

// newGraphError reads Graph's error body:
// {"error":{"code","message","innerError":{"request-id",...}}}.
func newGraphError(method, path string, res *http.Response, body []byte) *GraphError {
	e := &GraphError{Method: method, Path: path, Status: res.StatusCode, RequestID: res.Header.Get("request-id"), Location: res.Header.Get("Location")}
	var env struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil {
		e.Code, e.Message = env.Error.Code, env.Error.Message
		if e.RequestID == "" {
			e.RequestID = env.Error.InnerError.RequestID
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(res.StatusCode)
	}
	return e
}

// isStale reports a delta token Graph will not continue from: 410 Gone
// (with a Location to restart from), or a 4xx with syncStateNotFound or
// resyncRequired (delta-query-overview "Synchronization reset" and
// "Token duration"; graph/errors).
func isStale(err error) bool {
	var ge *GraphError
	if !errors.As(err, &ge) {
		return false
	}
	if ge.Status == http.StatusGone {
		return true
	}
	if ge.Status >= 400 && ge.Status < 500 {
		switch strings.ToLower(ge.Code) {
		case "syncstatenotfound", "resyncrequired", "syncstateinvalid":
			return true
		}
	}
	return false
}

// isDenied reports a missing application permission (403).
func isDenied(err error) bool {
	var ge *GraphError
	return errors.As(err, &ge) && ge.Status == http.StatusForbidden
}

// ErrUnreachable says the token endpoint or Graph did not answer at all
// (no HTTP response: refused, reset, timed out, a name that does not
// resolve), as opposed to answering with an error.
var ErrUnreachable = errors.New("entra: cannot reach Microsoft Entra ID")

// errStale is returned inside a round when the round must restart from
// scratch.
var errStale = errors.New("entra: delta token is stale")

// unreachableError is a request that got no answer; it is ErrUnreachable
// and unwraps to the transport's error.
type unreachableError struct {
	what string
	err  error
}

func (e *unreachableError) Error() string   { return e.what + ": " + e.err.Error() }
func (e *unreachableError) Unwrap() []error { return []error{ErrUnreachable, e.err} }
