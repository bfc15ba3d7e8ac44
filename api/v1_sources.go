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

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
)

// sourceJSON is a source as the API shows it: secrets only as names.
type sourceJSON struct {
	ID               string                 `json:"id"`
	Name             string                 `json:"name"`
	Kind             string                 `json:"kind"`
	Enabled          bool                   `json:"enabled"`
	Schedule         string                 `json:"schedule"`
	Settings         map[string]any         `json:"settings"`
	SecretsSet       []string               `json:"secretsSet"`
	Mapping          storage.SourceMapping  `json:"mapping"`
	EffectiveMapping storage.SourceMapping  `json:"effectiveMapping"`
	Scope            string                 `json:"scope"`
	Deletion         storage.DeletionPolicy `json:"deletion"`
	Precedence       int                    `json:"precedence"`
	Link             map[string]string      `json:"link"`
	Authoritative    []string               `json:"authoritative"`
	Health           storage.SourceHealth   `json:"health"`
	RunningRunID     string                 `json:"runningRunId,omitempty"`
	LastRun          *lastRunJSON           `json:"lastRun,omitempty"`
	NextRuns         []time.Time            `json:"nextRuns"`
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
	v.Mapping = src.Mapping
	v.Link, v.Authoritative = src.Link, src.Authoritative
	if v.Link == nil {
		v.Link = map[string]string{}
	}
	if v.Authoritative == nil {
		v.Authoritative = []string{}
	}
	if user, group, ok := engine.EffectiveMappings(s.cfg.Kinds, src); ok {
		v.EffectiveMapping = storage.SourceMapping{User: user, Group: group}
	}
	if id, ok := s.cfg.Sync.Running(src.ID); ok {
		v.RunningRunID = id
	}
	if runs, err := s.cfg.Store.ListRuns(ctx, src.ID, 1); err == nil && len(runs) == 1 {
		v.LastRun = &lastRunJSON{ID: runs[0].ID, Status: runs[0].Status, Finished: optTime(runs[0].Finished)}
	}
	v.NextRuns = s.nextRuns(src)
	v.Warnings = engine.Warnings(s.cfg.Kinds, src)
	return v
}

func (s *Server) createSource(c echo.Context) error {
	var in engine.SourceInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	// ApplyInput gives the source its id, which its secrets are sealed
	// for, before the store sees it.
	var src storage.Source
	if err := engine.ApplyInput(s.cfg.Kinds, s.cfg.Sealer, &src, in, engine.Replace); err != nil {
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
		var in engine.SourceInput
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
		mode := engine.Patch
		if replace {
			mode = engine.Replace
		}
		id := c.Param("id")
		updated, err := s.cfg.Store.UpdateSource(c.Request().Context(), id, func(src *storage.Source) error {
			return engine.ApplyInput(s.cfg.Kinds, s.cfg.Sealer, src, in, mode)
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
func sentFields(in engine.SourceInput) []string {
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
	add(in.Link.Set, "link")
	add(in.Authoritative.Set, "authoritative")
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
	run, err := s.cfg.Sync.Start(c.Request().Context(), id, engine.Trigger{Reason: "manual", Full: mode == "full", DryRun: dry})
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
