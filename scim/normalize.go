package scim

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// Client quirks are absorbed here, per request, before the library
// validates the body: each rewrite turns a shape a real client sends into
// the RFC form the library accepts, and is logged at debug level with the
// quirk's name. Nothing here loosens validation for other requests.

// quirk is one rewrite applied to a request body.
type quirk string

const (
	quirkNullReplace quirk = "replace-with-null-is-remove"
)

// normalizeRequest rewrites r's body when it carries a known client quirk.
// Bodies that are not JSON objects are left for the library to reject.
func (s *Server) normalizeRequest(r *http.Request) {
	if r.Body == nil || r.Method != http.MethodPatch {
		return
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		r.Body = io.NopCloser(bytes.NewReader(nil))
		return
	}
	out, quirks := normalizePatchBody(body)
	if len(quirks) > 0 {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "absorbed client quirks",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("quirks", quirks))
	}
	r.Body = io.NopCloser(bytes.NewReader(out))
	r.ContentLength = int64(len(out))
}

// normalizePatchBody rewrites the operations of a PatchOp body.
func normalizePatchBody(body []byte) ([]byte, []quirk) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return body, nil
	}
	key, raw := findKey(doc, "Operations")
	if key == "" {
		return body, nil
	}
	var ops []map[string]any
	if err := json.Unmarshal(raw, &ops); err != nil {
		return body, nil
	}
	var quirks []quirk
	for _, op := range ops {
		name, _ := op["op"].(string)
		path, _ := op["path"].(string)
		v, hasValue := op["value"]
		// RFC 7643 §2.5: null is the same as unassigned, so replacing a
		// path with null removes it.
		if strings.EqualFold(name, "replace") && path != "" && hasValue && v == nil {
			op["op"] = "remove"
			delete(op, "value")
			quirks = append(quirks, quirkNullReplace)
		}
	}
	if len(quirks) == 0 {
		return body, nil
	}
	b, err := json.Marshal(ops)
	if err != nil {
		return body, nil
	}
	doc[key] = b
	out, err := json.Marshal(doc)
	if err != nil {
		return body, nil
	}
	return out, quirks
}

// findKey looks a JSON member up case-insensitively (SCIM attribute names
// are case-insensitive).
func findKey(doc map[string]json.RawMessage, name string) (string, json.RawMessage) {
	if v, ok := doc[name]; ok {
		return name, v
	}
	for k, v := range doc {
		if strings.EqualFold(k, name) {
			return k, v
		}
	}
	return "", nil
}
