package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// appJSON is an application as the config API shows it: the definition
// as written, its bookkeeping and the size of its view now.
type appJSON struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Description    string            `json:"description"`
	Scope          appScopeJSON      `json:"scope"`
	Groups         storage.GroupMode `json:"groups"`
	FlattenGroups  bool              `json:"flattenGroups"`
	Attributes     []string          `json:"attributes"`
	LeaveGraceDays int               `json:"leaveGraceDays"`
	Push           *pushJSON         `json:"push,omitempty"`
	Counts         *appCountsJSON    `json:"counts,omitempty"`
	Warnings       []string          `json:"warnings,omitempty"`
	CreatedAt      time.Time         `json:"createdAt"`
	UpdatedAt      time.Time         `json:"updatedAt"`
	Version        int64             `json:"version"`
}

type appScopeJSON struct {
	Groups          []string `json:"groups"`
	Filter          string   `json:"filter"`
	Sources         []string `json:"sources"`
	IncludeInactive bool     `json:"includeInactive"`
}

type appCountsJSON struct {
	Users    int `json:"users"`
	Groups   int `json:"groups"`
	Departed int `json:"departed"`
}

// appView renders a; counts and warnings are best effort (logged when
// they cannot be read), so a definition can always be seen.
func (s *Server) appView(ctx context.Context, a storage.App) appJSON {
	v := appJSON{
		ID: a.ID, Name: a.Name, Description: a.Description,
		Scope: appScopeJSON{Groups: nonNil(a.Scope.Groups), Filter: a.Scope.Filter,
			Sources: nonNil(a.Scope.Sources), IncludeInactive: a.Scope.IncludeInactive},
		Groups: a.Groups, FlattenGroups: a.FlattenGroups, Attributes: nonNil(a.Attributes),
		LeaveGraceDays: a.LeaveGraceDays, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Version: a.Version,
	}
	v.Push = s.pushView(ctx, a)
	if c, err := s.cfg.Store.AppCounts(ctx, a.ID); err == nil {
		v.Counts = &appCountsJSON{Users: c.Users, Groups: c.Groups, Departed: c.Departed}
	} else {
		s.log.Warn("cannot count an application's view", "app", a.ID, "error", err)
	}
	v.Warnings = s.appWarnings(ctx, a)
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// appWarnings says which scope groups match no group now: they are kept
// (a later sync may create them), but a typo should not go unnoticed.
func (s *Server) appWarnings(ctx context.Context, a storage.App) []string {
	var out []string
	for _, g := range a.Scope.Groups {
		found, err := s.groupExists(ctx, g)
		if err != nil {
			s.log.Warn("cannot check a scope group", "app", a.ID, "group", g, "error", err)
			continue
		}
		if !found {
			out = append(out, "scope group "+quote(g)+" matches no group now (neither an id nor a displayName); its members join the view when it appears")
		}
	}
	return out
}

func quote(s string) string { return `"` + s + `"` }

// groupExists reports whether idOrName is a group's id or displayName.
func (s *Server) groupExists(ctx context.Context, idOrName string) (bool, error) {
	_, err := s.cfg.Store.GetGroup(ctx, idOrName, false)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	page, err := s.cfg.Store.ListGroups(ctx, storage.Query{
		Filter: storage.Compare{Attr: storage.AttrDisplayName, Op: storage.OpEq, Value: idOrName}, Limit: 1, NoTotal: true,
	}, false)
	if err != nil {
		return false, err
	}
	return len(page.Groups) > 0, nil
}

func (s *Server) listApps(c echo.Context) error {
	ctx := c.Request().Context()
	apps, err := s.cfg.Store.ListApps(ctx)
	if err != nil {
		return err
	}
	out := make([]appJSON, len(apps))
	for i, a := range apps {
		out[i] = s.appView(ctx, a)
	}
	return c.JSON(http.StatusOK, map[string]any{"apps": out})
}

func (s *Server) getApp(c echo.Context) error {
	a, err := s.cfg.Store.GetApp(c.Request().Context(), c.Param("id"))
	if err != nil {
		return notFoundAs(err, "application "+c.Param("id"))
	}
	return c.JSON(http.StatusOK, s.appView(c.Request().Context(), a))
}

func (s *Server) createApp(c echo.Context) error {
	ctx := c.Request().Context()
	var in appInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, bad, err := s.prepareApp(ctx, in, true)
	if err != nil {
		return err
	}
	// The id is taken before the store sees the app: push secrets are
	// sealed for it.
	a := storage.App{ID: storage.NewID()}
	p.apply(&a, true)
	a.Push = mergePush(bad, nil, in.Push, true, s.pushSealerFor(a.ID))
	if err := bad.err(); err != nil {
		return err
	}
	created, err := s.cfg.Store.CreateApp(ctx, a)
	if err != nil {
		return appWriteError(err, a.Name)
	}
	s.audit(c, "app.create", created.ID, "name="+created.Name)
	c.Response().Header().Set("Location", APIPrefix+"/apps/"+created.ID)
	return c.JSON(http.StatusCreated, s.appView(ctx, created))
}

func appWriteError(err error, name string) error {
	if errors.Is(err, storage.ErrConflict) {
		return &apiError{Status: http.StatusConflict, Code: "conflict", Message: "an application named " + name + " already exists",
			Fields: map[string]string{"name": "already taken"}}
	}
	return err
}

func (s *Server) updateApp(replace bool) func(echo.Context) error {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		var in appInput
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
		p, bad, err := s.prepareApp(ctx, in, replace)
		if err != nil {
			return err
		}
		if err := bad.err(); err != nil {
			return err
		}
		id := c.Param("id")
		updated, err := s.cfg.Store.UpdateApp(ctx, id, func(a *storage.App) error {
			p.apply(a, replace)
			// What the push must have depends on the stored one (its
			// secrets stay unless replaced); the callback does no I/O.
			more := fieldProblems{}
			a.Push = mergePush(more, a.Push, in.Push, replace, s.pushSealerFor(a.ID))
			return more.err()
		})
		if err != nil {
			name := id
			if p.in.Name != nil {
				name = *p.in.Name
			}
			return notFoundAs(appWriteError(err, name), "application "+id)
		}
		action := "app.patch"
		if replace {
			action = "app.replace"
		}
		s.audit(c, action, updated.ID, "fields="+strings.Join(sentAppFields(in), ","))
		return c.JSON(http.StatusOK, s.appView(ctx, updated))
	}
}

// deleteApp removes an app; the store removes its tokens with it, which
// the audit entry names.
func (s *Server) deleteApp(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	a, err := s.cfg.Store.GetApp(ctx, id)
	if err != nil {
		return notFoundAs(err, "application "+id)
	}
	if s.cfg.Pushes != nil {
		// Its push would go on writing bookkeeping the delete removes.
		if runID, busy := s.cfg.Pushes.Running(a.ID); busy {
			return &apiError{Status: http.StatusConflict, Code: "run_in_progress", RunID: runID,
				Message: "the application has a push in progress; wait for it or disable its push first"}
		}
	}
	toks, err := s.appTokens(ctx, a.ID)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteApp(ctx, a.ID); err != nil {
		return notFoundAs(err, "application "+id)
	}
	names := make([]string, len(toks))
	for i, t := range toks {
		names[i] = t.Name
	}
	s.audit(c, "app.delete", a.ID, "name="+a.Name+" tokensRevoked="+strings.Join(names, ","))
	return c.NoContent(http.StatusNoContent)
}

// routesApps mounts the applications API on the config API's group.
func (s *Server) routesApps(g *echo.Group) {
	g.GET("/apps", s.handle(s.listApps))
	g.GET("/app-attributes", s.handle(s.listAppAttributes))
	g.GET("/push-profiles", s.handle(s.listPushProfiles))
	g.POST("/apps", s.handle(s.createApp))
	g.GET("/apps/:id", s.handle(s.getApp))
	g.PUT("/apps/:id", s.handle(s.updateApp(true)))
	g.PATCH("/apps/:id", s.handle(s.updateApp(false)))
	g.DELETE("/apps/:id", s.handle(s.deleteApp))
	g.GET("/apps/:id/preview", s.handle(s.previewApp))
	g.GET("/apps/:id/tokens", s.handle(s.listAppTokens))
	g.POST("/apps/:id/tokens", s.handle(s.createAppToken))
}
