package api_test

// The golden interop suite: every request Okta and Microsoft Entra ID send
// when they push to /scim/v2, recorded as one JSON file per request and
// answer under testdata/interop/<flow>/NN-name.json, replayed in order
// through the real HTTP stack over a real SQLite store. Each step is
// followed by a GET that proves what was stored. Expected bodies are
// matched as matchJSON (interop_match_test.go) describes.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/scimgate/scimgate/api"
)

// goldenStep is one file of the suite.
type goldenStep struct {
	// Doc says what the client does here and where the shape is documented.
	Doc     string         `json:"doc"`
	Request goldenRequest  `json:"request"`
	Expect  goldenExpected `json:"response"`
	// Quirks are the client quirks the server must report absorbing for
	// this request (debug log); none when empty, so a request that is
	// already in RFC form is proven to pass untouched.
	Quirks []string `json:"quirks"`
	// NeverStored are strings (passwords) that must not appear anywhere in
	// the database files after the step.
	NeverStored []string `json:"neverStored"`
	// Verify is the GET that proves the stored state after the step.
	Verify *goldenVerify `json:"verify"`
}

type goldenRequest struct {
	Method string `json:"method"`
	// Path is the path and query, e.g. /scim/v2/Users?filter=...
	Path string `json:"path"`
	// Token is who sends it: okta, entra (the two push clients' writer
	// tokens), reader, or none.
	Token   string            `json:"token"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

type goldenExpected struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	// Body is matched as described in matchJSON.
	Body json.RawMessage `json:"body"`
	// Absent are slash-separated paths that must not exist in the body.
	Absent []string `json:"absent"`
	// Capture names values of the body ("userId": "id") for later steps.
	Capture map[string]string `json:"capture"`
}

type goldenVerify struct {
	Path   string          `json:"path"`
	Token  string          `json:"token"` // default: reader
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
	Absent []string        `json:"absent"`
}

const interopDir = "testdata/interop"

// TestInterop replays each flow under testdata/interop in a fresh server.
func TestInterop(t *testing.T) {
	flows, err := os.ReadDir(interopDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) == 0 {
		t.Fatal("no interop flows")
	}
	for _, flow := range flows {
		if !flow.IsDir() {
			continue
		}
		t.Run(flow.Name(), func(t *testing.T) { replayFlow(t, filepath.Join(interopDir, flow.Name())) })
	}
}

func replayFlow(t *testing.T, dir string) {
	steps := loadSteps(t, dir)
	logs := &quirkLog{}
	e := newEnvWith(t, api.Config{Logger: slog.New(logs)})
	vars := map[string]string{"base": e.URL}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) { replayStep(t, e, logs, s.step, vars) })
		if !ok {
			return // later steps depend on this one's state and captures
		}
	}
	if errs := logs.errors(); len(errs) > 0 {
		t.Errorf("the server logged errors during the flow: %v", errs)
	}
}

type namedStep struct {
	name string
	step goldenStep
}

func loadSteps(t *testing.T, dir string) []namedStep {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no steps in %s (%v)", dir, err)
	}
	sort.Strings(files)
	var out []namedStep
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s goldenStep
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&s); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if s.Doc == "" || s.Request.Method == "" || s.Request.Path == "" || s.Expect.Status == 0 || s.Verify == nil || s.Verify.Status == 0 {
			t.Fatalf("%s: doc, request.method, request.path, response.status and verify are required", f)
		}
		out = append(out, namedStep{name: strings.TrimSuffix(filepath.Base(f), ".json"), step: s})
	}
	return out
}

func replayStep(t *testing.T, e *env, logs *quirkLog, s goldenStep, vars map[string]string) {
	t.Logf("%s", s.Doc)
	var body any
	if len(s.Request.Body) > 0 {
		body = []byte(expand(t, string(s.Request.Body), vars))
	}
	var headers []string
	for k, v := range s.Request.Headers {
		headers = append(headers, k, expand(t, v, vars))
	}
	logs.reset()
	r := e.do(t, s.Request.Method, expand(t, s.Request.Path, vars), tokenOf(t, e, s.Request.Token), body, headers...)

	if r.Status != s.Expect.Status {
		t.Fatalf("%v\nstatus = %d, want %d", r, r.Status, s.Expect.Status)
	}
	if r.Status == http.StatusNoContent && len(r.Raw) != 0 {
		t.Errorf("%v\n204 with a body", r)
	}
	for name, path := range s.Expect.Capture {
		v, ok := at(r.JSON, goldenPath(path)...).(string)
		if !ok || v == "" {
			t.Fatalf("%v\ncapture %s: no string at %q", r, name, path)
		}
		vars[name] = v
	}
	for k, want := range s.Expect.Headers {
		checkHeader(t, r, k, expand(t, want, vars))
	}
	checkBody(t, r, s.Expect.Body, s.Expect.Absent, vars)
	if got := logs.quirks(); !sameSet(got, s.Quirks) {
		t.Errorf("%v\nquirks absorbed = %v, want %v", r, got, s.Quirks)
	}
	for _, secret := range s.NeverStored {
		checkNotStored(t, e, secret)
	}

	v := s.Verify
	tok := v.Token
	if tok == "" {
		tok = "reader"
	}
	g := e.do(t, "GET", expand(t, v.Path, vars), tokenOf(t, e, tok), nil)
	if g.Status != v.Status {
		t.Fatalf("verify: %v\nstatus = %d, want %d", g, g.Status, v.Status)
	}
	checkBody(t, g, v.Body, v.Absent, vars)
}

func tokenOf(t *testing.T, e *env, who string) string {
	switch who {
	case "okta":
		return e.Writer
	case "entra":
		return e.Writer2
	case "reader":
		return e.Reader
	case "none":
		return ""
	}
	t.Fatalf("unknown token %q (okta, entra, reader, none)", who)
	return ""
}

// expand replaces {{name}} with captured values; an unknown name fails.
func expand(t *testing.T, s string, vars map[string]string) string {
	t.Helper()
	var out strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			t.Fatalf("unterminated placeholder in %q", s)
		}
		name := s[i+2 : i+j]
		v, ok := vars[name]
		if !ok {
			if name == anyValue {
				v = "{{" + anyValue + "}}" // a matcher, kept for matchJSON
			} else {
				t.Fatalf("placeholder {{%s}} was not captured by an earlier step", name)
			}
		}
		out.WriteString(s[:i])
		out.WriteString(v)
		s = s[i+j+2:]
	}
}

func checkHeader(t *testing.T, r *resp, name, want string) {
	t.Helper()
	got := r.Header.Get(name)
	if strings.EqualFold(name, "Content-Type") {
		gm, _, _ := mime.ParseMediaType(got)
		wm, _, _ := mime.ParseMediaType(want)
		if gm != wm {
			t.Errorf("%v\nContent-Type = %q, want %s", r, got, want)
		}
		return
	}
	if got != want {
		t.Errorf("%v\n%s = %q, want %q", r, name, got, want)
	}
}

func checkBody(t *testing.T, r *resp, want json.RawMessage, absent []string, vars map[string]string) {
	t.Helper()
	if len(want) > 0 {
		exp := decodeNumbers(t, expand(t, string(want), vars))
		if r.JSON == nil {
			t.Fatalf("%v\nthe body is not JSON", r)
		}
		if err := matchJSON(exp, r.JSON, ""); err != nil {
			t.Errorf("%v\n%v", r, err)
		}
	}
	for _, p := range absent {
		if present(r.JSON, goldenPath(p)) {
			t.Errorf("%v\n%q must be absent", r, p)
		}
	}
}

func decodeNumbers(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("bad expected JSON %s: %v", s, err)
	}
	return v
}

// goldenPath splits "Resources/0/id" into keys and indexes for at.
func goldenPath(p string) []any {
	var out []any
	for _, part := range strings.Split(p, "/") {
		var n int
		if _, err := fmt.Sscanf(part, "%d", &n); err == nil && fmt.Sprint(n) == part {
			out = append(out, n)
			continue
		}
		out = append(out, part)
	}
	return out
}

// present reports whether path exists in v; a key under every element of
// an array counts when the path continues past the array.
func present(v any, path []any) bool {
	if len(path) == 0 {
		return true
	}
	switch k := path[0].(type) {
	case string:
		if l, ok := v.([]any); ok {
			return slices.ContainsFunc(l, func(e any) bool { return present(e, path) })
		}
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		e, ok := m[k]
		return ok && present(e, path[1:])
	case int:
		l, ok := v.([]any)
		return ok && k < len(l) && present(l[k], path[1:])
	}
	return false
}

// checkNotStored fails when secret appears in the database files.
func checkNotStored(t *testing.T, e *env, secret string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-journal"} {
		raw, err := os.ReadFile(e.DBPath + suffix)
		if err != nil {
			continue
		}
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("%q is stored in %s", secret, filepath.Base(e.DBPath+suffix))
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// quirkLog is a slog handler that keeps the quirks the SCIM layer reports
// absorbing (and any error records) since the last reset.
type quirkLog struct {
	mu   sync.Mutex
	seen []string
	errs []string
}

func (l *quirkLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *quirkLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *quirkLog) WithGroup(string) slog.Handler            { return l }

func (l *quirkLog) Handle(_ context.Context, rec slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rec.Level >= slog.LevelError {
		l.errs = append(l.errs, rec.Message)
	}
	if rec.Message != "absorbed client quirks" {
		return nil
	}
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "quirks" {
			if names, ok := a.Value.Any().([]string); ok {
				l.seen = append(l.seen, names...)
			}
		}
		return true
	})
	return nil
}

func (l *quirkLog) reset() {
	l.mu.Lock()
	l.seen = nil
	l.mu.Unlock()
}

func (l *quirkLog) quirks() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seen)
}

func (l *quirkLog) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}
