package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// Defaults of a new source's deletion guard: deactivate, and hold a run
// that would remove more than a fifth of the source's objects.
const (
	defaultMaxPercent = 20
)

// sourceInput is a source as an admin writes it. Pointers tell "not sent"
// from zero, for PATCH and for defaults.
type sourceInput struct {
	Name       *string                    `json:"name"`
	Kind       *string                    `json:"kind"`
	Enabled    *bool                      `json:"enabled"`
	Schedule   *string                    `json:"schedule"`
	Settings   map[string]json.RawMessage `json:"settings"`
	Mapping    *mappingJSON               `json:"mapping"`
	Scope      *string                    `json:"scope"`
	Deletion   *deletionInput             `json:"deletion"`
	Precedence *int                       `json:"precedence"`
}

type mappingJSON struct {
	User  map[string]string `json:"user,omitempty"`
	Group map[string]string `json:"group,omitempty"`
}

type deletionInput struct {
	Policy     *string  `json:"policy"`
	MaxPercent *float64 `json:"maxPercent"`
	MaxCount   *int     `json:"maxCount"`
	GraceDays  *int     `json:"graceDays"`
}

// sourceJSON is a source as the API shows it: secrets only as names.
type sourceJSON struct {
	ID               string                 `json:"id"`
	Name             string                 `json:"name"`
	Kind             string                 `json:"kind"`
	Enabled          bool                   `json:"enabled"`
	Schedule         string                 `json:"schedule"`
	Settings         map[string]any         `json:"settings"`
	SecretsSet       []string               `json:"secretsSet"`
	Mapping          mappingJSON            `json:"mapping"`
	EffectiveMapping mappingJSON            `json:"effectiveMapping"`
	Scope            string                 `json:"scope"`
	Deletion         storage.DeletionPolicy `json:"deletion"`
	Precedence       int                    `json:"precedence"`
	Health           storage.SourceHealth   `json:"health"`
	RunningRunID     string                 `json:"runningRunId,omitempty"`
	LastRun          *lastRunJSON           `json:"lastRun,omitempty"`
	HasCursor        bool                   `json:"hasCursor"`
	Warnings         []string               `json:"warnings,omitempty"`
	Created          time.Time              `json:"created"`
	Updated          time.Time              `json:"updated"`
	Version          int64                  `json:"version"`
}

// lastRunJSON summarises a source's most recent run.
type lastRunJSON struct {
	ID       string            `json:"id"`
	Status   storage.RunStatus `json:"status"`
	Finished *time.Time        `json:"finished,omitempty"`
}

func (s *Server) sourceView(ctx context.Context, src storage.Source) sourceJSON {
	v := sourceJSON{
		ID: src.ID, Name: src.Name, Kind: src.Kind, Enabled: src.Enabled, Schedule: src.Schedule,
		Settings: map[string]any{}, SecretsSet: []string{}, Scope: src.Scope, Deletion: src.Deletion,
		Precedence: src.Precedence, Health: src.Health, HasCursor: len(src.Cursor) > 0,
		Created: src.Created, Updated: src.Updated, Version: src.Version,
	}
	if len(src.Settings) > 0 {
		_ = json.Unmarshal(src.Settings, &v.Settings)
	}
	for name := range src.Secrets {
		v.SecretsSet = append(v.SecretsSet, name)
	}
	sort.Strings(v.SecretsSet)
	v.Mapping = splitMapping(src.Mapping)
	if kind, ok := s.cfg.Sync.Kinds()[src.Kind]; ok {
		v.EffectiveMapping = mappingJSON{
			User:  kind.UserMapping.Merge(v.Mapping.User),
			Group: kind.GroupMapping.Merge(v.Mapping.Group),
		}
	}
	if id, ok := s.cfg.Sync.Running(src.ID); ok {
		v.RunningRunID = id
	}
	if runs, err := s.cfg.Store.ListRuns(ctx, src.ID, 1); err == nil && len(runs) == 1 {
		v.LastRun = &lastRunJSON{ID: runs[0].ID, Status: runs[0].Status, Finished: optTime(runs[0].Finished)}
	}
	if insecure, _ := v.Settings["insecureSkipVerify"].(bool); insecure {
		v.Warnings = append(v.Warnings, "insecureSkipVerify is on: the server's TLS certificate is not checked, so credentials can be intercepted")
	}
	if plain, _ := v.Settings["allowPlaintextBind"].(bool); plain {
		v.Warnings = append(v.Warnings, "allowPlaintextBind is on: an ldap:// URL without startTLS sends bindPassword in clear")
	}
	return v
}

func splitMapping(m map[string]string) mappingJSON {
	out := mappingJSON{User: map[string]string{}, Group: map[string]string{}}
	for k, v := range m {
		if rest, ok := strings.CutPrefix(k, "user."); ok {
			out.User[rest] = v
		} else if rest, ok := strings.CutPrefix(k, "group."); ok {
			out.Group[rest] = v
		}
	}
	return out
}

func joinMapping(m mappingJSON) map[string]string {
	out := map[string]string{}
	for k, v := range m.User {
		out["user."+k] = v
	}
	for k, v := range m.Group {
		out["group."+k] = v
	}
	return out
}

// apply writes the fields in of an input onto src. With replace set (PUT)
// absent fields take their defaults; otherwise (PATCH) they stay.
func (s *Server) apply(src *storage.Source, in sourceInput, replace bool) error {
	var errs sources.FieldErrors
	if in.Kind != nil && src.Kind != "" && *in.Kind != src.Kind {
		errs.Add("kind", "cannot be changed (was %q); create a new source instead", src.Kind)
	}
	if in.Kind != nil && src.Kind == "" {
		src.Kind = *in.Kind
	}
	if in.Name != nil {
		src.Name = strings.TrimSpace(*in.Name)
	}
	if src.Name == "" {
		errs.Add("name", "required")
	} else if p := scim.IdentifierProblem(src.Name, scim.MaxNameChars); p != "" {
		errs.Add("name", "the name %s", p)
	}
	if src.Kind == "" {
		errs.Add("kind", "required; one of %s", strings.Join(s.cfg.Sync.Kinds().Names(), ", "))
	}
	if in.Enabled != nil {
		src.Enabled = *in.Enabled
	} else if replace {
		src.Enabled = true
	}
	if in.Schedule != nil {
		src.Schedule = strings.TrimSpace(*in.Schedule)
	} else if replace {
		src.Schedule = ""
	}
	if src.Schedule != "" {
		if _, err := sources.ParseSchedule(src.Schedule); err != nil {
			errs.Add("schedule", "%v", err)
		}
	}
	if in.Scope != nil {
		src.Scope = *in.Scope
	} else if replace {
		src.Scope = ""
	}
	if in.Precedence != nil {
		src.Precedence = *in.Precedence
	} else if replace {
		src.Precedence = sources.DefaultPrecedence
	}
	if in.Mapping != nil {
		if replace {
			src.Mapping = joinMapping(*in.Mapping)
		} else {
			merged := splitMapping(src.Mapping)
			for k, v := range in.Mapping.User {
				merged.User[k] = v
			}
			for k, v := range in.Mapping.Group {
				merged.Group[k] = v
			}
			src.Mapping = joinMapping(merged)
		}
	} else if replace {
		src.Mapping = nil
	}
	d := &src.Deletion
	if replace || d.Policy == "" {
		*d = storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: defaultMaxPercent}
	}
	if in.Deletion != nil {
		if in.Deletion.Policy != nil {
			d.Policy = *in.Deletion.Policy
		}
		if in.Deletion.MaxPercent != nil {
			d.MaxPercent = *in.Deletion.MaxPercent
		}
		if in.Deletion.MaxCount != nil {
			d.MaxCount = *in.Deletion.MaxCount
		}
		if in.Deletion.GraceDays != nil {
			d.GraceDays = *in.Deletion.GraceDays
		}
	}
	if src.Kind != "" && errs["kind"] == "" {
		settings := in.Settings
		if !replace {
			// PATCH merges settings key by key; null removes a key.
			settings = map[string]json.RawMessage{}
			var old map[string]json.RawMessage
			if len(src.Settings) > 0 {
				_ = json.Unmarshal(src.Settings, &old)
			}
			for k, v := range old {
				settings[k] = v
			}
			for k, v := range in.Settings {
				if string(v) == "null" && !isSecret(s.cfg.Sync.Kinds(), src.Kind, k) {
					delete(settings, k)
					continue
				}
				settings[k] = v
			}
		}
		plain, secrets, err := s.cfg.Sync.Kinds().SplitSettings(src.ID, src.Kind, settings, src.Secrets, s.cfg.Sync.Sealer())
		if err != nil {
			return err
		}
		src.Settings, src.Secrets = plain, secrets
	}
	// The kind checks its settings, the mapping, the scope and the
	// policy; every problem is reported in one answer.
	if src.Kind != "" && errs["kind"] == "" {
		_, err := s.cfg.Sync.Kinds().Prepare(*src, s.cfg.Sync.Sealer())
		var inv *sources.InvalidConfigError
		if errors.As(err, &inv) {
			for f, msg := range inv.Fields {
				errs.Add(f, "%s", msg)
			}
		} else if err != nil {
			return err
		}
	}
	return errs.Err()
}

func isSecret(reg sources.Registry, kind, name string) bool {
	for _, n := range reg[kind].Secrets {
		if n == name {
			return true
		}
	}
	return false
}

func (s *Server) createSource(c echo.Context) error {
	var in sourceInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	// The id is chosen before the store sees the source, so its secrets
	// are sealed for it (see sources.Sealer).
	src := storage.Source{ID: storage.NewID()}
	if err := s.apply(&src, in, true); err != nil {
		return err
	}
	created, err := s.cfg.Store.CreateSource(c.Request().Context(), src)
	if err != nil {
		return sourceWriteError(err, src.Name)
	}
	s.audit(c, "source.create", created.ID, "name="+created.Name+" kind="+created.Kind)
	c.Response().Header().Set("Location", APIPrefix+"/sources/"+created.ID)
	return c.JSON(http.StatusCreated, s.sourceView(c.Request().Context(), created))
}

func sourceWriteError(err error, name string) error {
	if errors.Is(err, storage.ErrConflict) {
		return &apiError{Status: http.StatusConflict, Code: "conflict", Message: "a source named " + name + " already exists",
			Fields: map[string]string{"name": "already taken"}}
	}
	return err
}

func (s *Server) listSources(c echo.Context) error {
	srcs, err := s.cfg.Store.ListSources(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]sourceJSON, len(srcs))
	for i, src := range srcs {
		out[i] = s.sourceView(c.Request().Context(), src)
	}
	return c.JSON(http.StatusOK, map[string]any{"sources": out})
}

func (s *Server) getSource(c echo.Context) error {
	src, err := s.cfg.Store.GetSource(c.Request().Context(), c.Param("id"))
	if err != nil {
		return notFoundAs(err, "source "+c.Param("id"))
	}
	return c.JSON(http.StatusOK, s.sourceView(c.Request().Context(), src))
}

func (s *Server) updateSource(replace bool) func(echo.Context) error {
	return func(c echo.Context) error {
		var in sourceInput
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
		id := c.Param("id")
		updated, err := s.cfg.Store.UpdateSource(c.Request().Context(), id, func(src *storage.Source) error {
			return s.apply(src, in, replace)
		})
		if err != nil {
			name := id
			if in.Name != nil {
				name = *in.Name
			}
			return notFoundAs(sourceWriteError(err, name), "source "+id)
		}
		action := "source.patch"
		if replace {
			action = "source.replace"
		}
		s.audit(c, action, id, "fields="+strings.Join(sentFields(in), ","))
		return c.JSON(http.StatusOK, s.sourceView(c.Request().Context(), updated))
	}
}

// sentFields names the fields an update carried (for the audit log;
// never values, which may be secrets).
func sentFields(in sourceInput) []string {
	var f []string
	add := func(ok bool, name string) {
		if ok {
			f = append(f, name)
		}
	}
	add(in.Name != nil, "name")
	add(in.Enabled != nil, "enabled")
	add(in.Schedule != nil, "schedule")
	add(in.Mapping != nil, "mapping")
	add(in.Scope != nil, "scope")
	add(in.Deletion != nil, "deletion")
	add(in.Precedence != nil, "precedence")
	for k := range in.Settings {
		f = append(f, "settings."+k)
	}
	sort.Strings(f)
	return f
}

func (s *Server) deleteSource(c echo.Context) error {
	id := c.Param("id")
	if runID, busy := s.cfg.Sync.Running(id); busy {
		return &apiError{Status: http.StatusConflict, Code: "run_in_progress", RunID: runID,
			Message: "the source has a run in progress; wait for it or disable the source first"}
	}
	if err := s.cfg.Store.DeleteSource(c.Request().Context(), id); err != nil {
		return notFoundAs(err, "source "+id)
	}
	s.audit(c, "source.delete", id, "")
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) testSource(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.cfg.Store.GetSource(c.Request().Context(), id); err != nil {
		return notFoundAs(err, "source "+id)
	}
	err := s.cfg.Sync.Test(c.Request().Context(), id)
	s.audit(c, "source.test", id, "")
	if err != nil {
		var inv *sources.InvalidConfigError
		if errors.As(err, &inv) {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"ok": false, "message": err.Error()})
	}
	return c.JSON(http.StatusOK, map[string]any{"ok": true, "message": "connected; credentials and settings work"})
}

func (s *Server) syncSource(c echo.Context) error {
	id := c.Param("id")
	mode := c.QueryParam("mode")
	if mode != "" && mode != "full" && mode != "incremental" {
		return errBadRequest("mode must be full or incremental, not %q", mode)
	}
	dry, err := boolParam(c, "dryRun")
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.GetSource(c.Request().Context(), id); err != nil {
		return notFoundAs(err, "source "+id)
	}
	run, err := s.cfg.Sync.Start(c.Request().Context(), id, sources.Trigger{Reason: "manual", Full: mode == "full", DryRun: dry})
	if err != nil {
		return err
	}
	s.audit(c, "source.sync", id, "run="+run.ID+" mode="+mode+" dryRun="+boolString(dry))
	c.Response().Header().Set("Location", APIPrefix+"/sources/"+id+"/runs/"+run.ID)
	return c.JSON(http.StatusAccepted, runView(run))
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
