package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Identity is who a console session acts as: the admin token it was signed
// in with. The API records Actor in its audit log.
type Identity struct {
	TokenID string
	Actor   string
}

// API runs requests against scimgate's own config API (/api/v1) and SCIM
// service (/scim/v2, read-only) in process, as who, so every rule the
// console applies is the API's own: validation, field errors, audit,
// secrets, the deletion guard. The console renders; it decides nothing.
type API interface {
	Call(ctx context.Context, who Identity, method, path string, body any) (Response, error)
}

// Response is an API answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx status.
func (r Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Decode reads a successful JSON answer into v, or returns the API's
// error (an *APIError) for an unsuccessful one.
func (r Response) Decode(v any) error {
	if !r.OK() {
		return r.Err()
	}
	if v == nil || len(r.Body) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("console: decoding the API's answer: %w", err)
	}
	return nil
}

// Err is the API's error in an unsuccessful answer; nil for a 2xx.
func (r Response) Err() *APIError {
	if r.OK() {
		return nil
	}
	e := &APIError{Status: r.Status}
	var body struct {
		Error *APIError `json:"error"`
		// SCIM errors (RFC 7644 section 3.12)
		Detail   string `json:"detail"`
		ScimType string `json:"scimType"`
	}
	if json.Unmarshal(r.Body, &body) == nil {
		switch {
		case body.Error != nil:
			body.Error.Status = r.Status
			return body.Error
		case body.Detail != "":
			e.Code, e.Message = body.ScimType, body.Detail
			return e
		}
	}
	e.Code, e.Message = "error", http.StatusText(r.Status)
	return e
}

// APIError is the config API's error body, and a SCIM error's detail.
type APIError struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	RunID   string            `json:"runId,omitempty"`
}

func (e *APIError) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + ": " + e.Fields[k]
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Field is the message for one form field, looked up by the API's field
// path; "" when the field is fine.
func (e *APIError) Field(path string) string {
	if e == nil {
		return ""
	}
	return e.Fields[path]
}
