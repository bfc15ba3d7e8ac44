package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Where the API commands find the server and their credential.
const (
	flagServer    = "server"
	envServer     = "SCIMGATE_SERVER"
	defaultServer = "http://localhost:8080"
	flagToken     = "token"
	envToken      = "SCIMGATE_TOKEN"
	// requestTimeout bounds one API call; --wait polls with many short ones.
	requestTimeout = 30 * time.Second
)

// apiClient calls a running server's config API with an admin token.
type apiClient struct {
	base  string // scheme://host[:port][/prefix], no trailing slash
	token string
	http  *http.Client
}

// apiError is an error answer of the config API: its message, then one
// line per field problem.
type apiError struct {
	Status  int
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields"`
	RunID   string            `json:"runId"`
}

func (e *apiError) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		fmt.Fprintf(&b, "\n  %s: %s", f, e.Fields[f])
	}
	return b.String()
}

// addClientFlags registers --server and --token on a command tree.
func addClientFlags(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.String(flagServer, "", fmt.Sprintf("URL of the running scimgate server (env %s, default %s)", envServer, defaultServer))
	pf.String(flagToken, "", fmt.Sprintf("admin token for the config API (env %s)", envToken))
}

// client builds an API client from --server/--token, else the
// environment, else the default server; the token has no default.
func (m *Main) client(cmd *cobra.Command) (*apiClient, error) {
	pick := func(flag, env, def string) string {
		if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
			return f.Value.String()
		}
		if v, ok := m.LookupEnv(env); ok && v != "" {
			return v
		}
		return def
	}
	server := strings.TrimRight(pick(flagServer, envServer, defaultServer), "/")
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q must be an http(s) URL such as %s", server, defaultServer)
	}
	token := strings.TrimSpace(pick(flagToken, envToken, ""))
	if token == "" {
		return nil, fmt.Errorf("no admin token: pass --%s or set %s (create one with 'scimgate token create --name NAME --role admin')", flagToken, envToken)
	}
	return &apiClient{base: server, token: token, http: &http.Client{Timeout: requestTimeout}}, nil
}

// call sends in (if not nil) as JSON and decodes a 2xx answer into out
// (if not nil). Error answers become *apiError.
func (c *apiClient) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	raw, err := c.callRaw(ctx, method, path, query, in)
	if err != nil || out == nil || len(raw) == 0 {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
	}
	return nil
}

// callRaw is call without decoding: the body of a 2xx answer.
func (c *apiClient) callRaw(ctx context.Context, method, path string, query url.Values, in any) ([]byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	target := c.base + "/api/v1" + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach the server at %s (is 'scimgate serve' running? set --%s or %s): %w", c.base, flagServer, envServer, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return raw, nil
	}
	var envelope struct {
		Error *apiError `json:"error"`
	}
	if json.Unmarshal(raw, &envelope) == nil && envelope.Error != nil && envelope.Error.Message != "" {
		envelope.Error.Status = res.StatusCode
		return nil, envelope.Error
	}
	// Not the API's error shape: a proxy, or not a scimgate server.
	snippet := strings.TrimSpace(string(raw))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "..."
	}
	return nil, fmt.Errorf("%s %s: the server answered %s: %s", method, target, res.Status, snippet)
}

// Views of the API's JSON, with just the fields the commands show.
type (
	sourceView struct {
		ID           string     `json:"id"`
		Name         string     `json:"name"`
		Kind         string     `json:"kind"`
		Enabled      bool       `json:"enabled"`
		Schedule     string     `json:"schedule"`
		Health       healthView `json:"health"`
		RunningRunID string     `json:"runningRunId"`
		Warnings     []string   `json:"warnings"`
	}
	healthView struct {
		ConsecutiveFailures int       `json:"consecutiveFailures"`
		Unhealthy           bool      `json:"unhealthy"`
		LastError           string    `json:"lastError"`
		LastRunAt           time.Time `json:"lastRunAt"`
	}
	runView struct {
		ID       string     `json:"id"`
		SourceID string     `json:"sourceId"`
		Status   string     `json:"status"`
		Trigger  string     `json:"trigger"`
		Mode     string     `json:"mode"`
		DryRun   bool       `json:"dryRun"`
		Queued   time.Time  `json:"queued"`
		Started  *time.Time `json:"started"`
		Finished *time.Time `json:"finished"`
		Counts   countsView `json:"counts"`
		// Warnings and Outcome: conflicts, errors and unresolved
		// references, and the status with them spelled out.
		Warnings int      `json:"warnings"`
		Outcome  string   `json:"outcome"`
		Error    string   `json:"error"`
		Notes    []string `json:"notes"`
	}
	countsView struct {
		Fetched     int `json:"fetched"`
		Created     int `json:"created"`
		Updated     int `json:"updated"`
		Unchanged   int `json:"unchanged"`
		Deactivated int `json:"deactivated"`
		Deleted     int `json:"deleted"`
		Conflicts   int `json:"conflicts"`
		Errors      int `json:"errors"`
		Unresolved  int `json:"unresolved"`
		Pending     int `json:"pending"`
		Linked      int `json:"linked"`
		Unlinked    int `json:"unlinked"`
		Left        int `json:"left"`
	}
)

// outcome is the status with its warnings ("succeeded with 2 conflicts");
// the status alone from a server that does not say.
func (r runView) outcome() string {
	if r.Outcome != "" {
		return r.Outcome
	}
	return r.Status
}

// ended reports whether a run will not change without an admin.
func (r runView) ended() bool { return r.Status != "queued" && r.Status != "running" }

func (c *apiClient) sources(ctx context.Context) ([]sourceView, error) {
	var list struct {
		Sources []sourceView `json:"sources"`
	}
	if err := c.call(ctx, http.MethodGet, "/sources", nil, nil, &list); err != nil {
		return nil, err
	}
	return list.Sources, nil
}

// errNoSource is wrapped by resolve when nothing matches.
var errNoSource = errors.New("no such source")

// resolve finds a source by id or by name (ids win, as names may look
// like anything).
func (c *apiClient) resolve(ctx context.Context, nameOrID string) (sourceView, error) {
	srcs, err := c.sources(ctx)
	if err != nil {
		return sourceView{}, err
	}
	for _, s := range srcs {
		if s.ID == nameOrID {
			return s, nil
		}
	}
	for _, s := range srcs {
		if s.Name == nameOrID {
			return s, nil
		}
	}
	return sourceView{}, fmt.Errorf("%w named or with id %q; 'scimgate source list' shows them", errNoSource, nameOrID)
}

// sourcePath is the API path of a source, plus more path segments.
func sourcePath(id string, more ...string) string {
	p := "/sources/" + url.PathEscape(id)
	for _, s := range more {
		p += "/" + url.PathEscape(s)
	}
	return p
}
