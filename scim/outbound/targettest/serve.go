package targettest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// RFC 7644 message schemas.
const (
	schemaError     = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaList      = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaPatchOp   = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaUser      = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaGroup     = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaSPC       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	contentTypeSCIM = "application/scim+json"
	maxBody         = 4 << 20
)

// scimError is an RFC 7644 §3.12 error; status is a string there.
type scimError struct {
	Status   int
	SCIMType string
	Detail   string
}

func errorf(status int, scimType, format string, args ...any) *scimError {
	return &scimError{Status: status, SCIMType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// answer is what a handler decided: a status and a body (nil: none).
type answer struct {
	status int
	body   any
	header http.Header
}

// serve is the front door: faults and latency, then authentication,
// then the routes; every request is logged with the status it got.
func (t *Target) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	path := strings.TrimPrefix(r.URL.Path, BasePath)
	rec := Request{Method: r.Method, Path: path, Query: r.URL.RawQuery, Body: string(body), Header: r.Header.Clone()}
	// The Date header is on the target's clock (Options.Now), so a
	// Retry-After HTTP-date is measured against it.
	w.Header().Set("Date", t.opts.Now().UTC().Format(http.TimeFormat))

	f := t.takeFault(r.Method, path)
	if f.latency > 0 {
		select {
		case <-r.Context().Done():
		case <-t.done:
		case <-t.afterLatency(f.latency):
		}
	}
	if f.drop {
		t.log(rec)
		hangUp(w)
		return
	}
	if f.status != 0 {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		rec.Status = f.status
		t.log(rec)
		writeSCIMError(w, errorf(f.status, "", "fault injected by the test (HTTP %d)", f.status))
		return
	}

	t.mu.Lock()
	a := t.route(r, path, body)
	t.mu.Unlock()

	if f.loseCreate && a.status == http.StatusCreated && t.consumeLoss() {
		// The create is applied; the answer never arrives: a connection
		// broken after the target committed, as a client sees it on a
		// timeout or a reset.
		rec.Status = 0
		t.log(rec)
		hangUp(w)
		return
	}
	rec.Status = a.status
	t.log(rec)
	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	if a.body == nil {
		w.WriteHeader(a.status)
		return
	}
	if e, ok := a.body.(*scimError); ok {
		writeSCIMError(w, e)
		return
	}
	w.Header().Set("Content-Type", contentTypeSCIM)
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body)
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (t *Target) log(r Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests = append(t.requests, r)
}

func writeSCIMError(w http.ResponseWriter, e *scimError) {
	doc := map[string]any{"schemas": []string{schemaError}, "status": fmt.Sprint(e.Status)}
	if e.SCIMType != "" {
		doc["scimType"] = e.SCIMType
	}
	if e.Detail != "" {
		doc["detail"] = e.Detail
	}
	w.Header().Set("Content-Type", contentTypeSCIM)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(doc)
}

func fail(e *scimError) answer { return answer{status: e.Status, body: e} }

// route authenticates and dispatches; t.mu is held.
func (t *Target) route(r *http.Request, path string, body []byte) answer {
	if t.token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || got != t.token {
			a := fail(errorf(http.StatusUnauthorized, "", "the bearer token is missing or not valid for this target"))
			a.header = http.Header{"Www-Authenticate": {`Bearer realm="targettest"`}}
			return a
		}
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if path == "/ServiceProviderConfig" && r.Method == http.MethodGet {
		return answer{status: http.StatusOK, body: t.spc()}
	}
	if len(parts) == 0 || (parts[0] != "Users" && parts[0] != "Groups") || len(parts) > 2 {
		return fail(errorf(http.StatusNotFound, "", "no such endpoint: %s", path))
	}
	kind := parts[0]
	if len(parts) == 1 {
		switch r.Method {
		case http.MethodGet:
			return t.list(kind, r.URL.Query())
		case http.MethodPost:
			return t.post(kind, body)
		}
		return fail(errorf(http.StatusMethodNotAllowed, "", "%s is not allowed on /%s", r.Method, kind))
	}
	id := parts[1]
	switch r.Method {
	case http.MethodGet:
		return t.get(kind, id)
	case http.MethodPut:
		if t.opts.AWS && kind == "Groups" {
			// AWS lists PutUser but no PutGroup; an unsupported operation
			// is its ValidationException (400).
			return fail(errorf(http.StatusBadRequest, "invalidSyntax", "ValidationException: PUT is not supported on groups"))
		}
		return t.put(kind, id, body)
	case http.MethodPatch:
		if t.opts.NoPatch {
			return fail(errorf(http.StatusNotImplemented, "", "this target does not support PATCH (see /ServiceProviderConfig)"))
		}
		return t.patch(kind, id, body)
	case http.MethodDelete:
		return t.delete(kind, id)
	}
	return fail(errorf(http.StatusMethodNotAllowed, "", "%s is not allowed on /%s/{id}", r.Method, kind))
}

// spc is the ServiceProviderConfig (RFC 7643 §5).
func (t *Target) spc() map[string]any {
	return map[string]any{
		"schemas":               []string{schemaSPC},
		"patch":                 map[string]any{"supported": !t.opts.NoPatch},
		"bulk":                  map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":                map[string]any{"supported": true, "maxResults": t.opts.MaxResults},
		"changePassword":        map[string]any{"supported": false},
		"sort":                  map[string]any{"supported": false},
		"etag":                  map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{"type": "oauthbearertoken", "name": "OAuth Bearer Token", "description": "Authentication with a bearer token"}},
	}
}
