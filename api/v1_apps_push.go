package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// The routes of an app's outbound push mirror a source's: test, sync,
// and its runs through the same run handlers (runOwner), over the push's
// own run history (PushStore.PushRuns).

// pushStore is the store's push bookkeeping: Config.PushStore, else the
// store itself when it has one; nil otherwise.
func (s *Server) pushStore() storage.PushStore {
	if s.cfg.PushStore != nil {
		return s.cfg.PushStore
	}
	ps, _ := s.cfg.Store.(storage.PushStore)
	return ps
}

// appRuns is the runOwner of apps' push runs: an app is named by its id
// or its name, its runs are kept under its id.
func (s *Server) appRuns() runOwner {
	return runOwner{noun: "application", audit: "app.run", runs: s.pushStore().PushRuns(),
		resolve: func(ctx context.Context, idOrName string) (string, error) {
			a, err := s.cfg.Store.GetApp(ctx, idOrName)
			return a.ID, err
		},
		decide: func(ctx context.Context, id, runID, actor string, approve bool) (storage.Run, error) {
			if approve {
				return s.cfg.Pushes.Approve(ctx, id, runID, actor)
			}
			return s.cfg.Pushes.Reject(ctx, id, runID, actor)
		}}
}

// routesPush mounts the push routes when the server has a push runner
// and a store that keeps push bookkeeping.
func (s *Server) routesPush(g *echo.Group) {
	if s.cfg.Pushes == nil || s.pushStore() == nil {
		return
	}
	g.POST("/apps/:id/test", s.handle(s.testPush))
	g.POST("/apps/:id/sync", s.handle(s.syncPush))
	s.routesRuns(g, "/apps/:id", s.appRuns())
}

// testPush reaches the app's target and reports each check; a failed
// check is a 200 whose report says so, an app without push a 400.
func (s *Server) testPush(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.cfg.Store.GetApp(ctx, c.Param("id"))
	if err != nil {
		return notFoundAs(err, "application "+c.Param("id"))
	}
	if a.Push == nil {
		return errNoPush(a)
	}
	report, err := s.cfg.Pushes.Test(ctx, a.ID)
	if err != nil {
		return err
	}
	s.audit(c, "app.test", a.ID, "ok="+boolString(report.OK))
	return c.JSON(http.StatusOK, report)
}

// syncPush starts a push now: ?mode=full reads and reconciles the whole
// target, ?dryRun=true sends nothing and records what it would send.
func (s *Server) syncPush(c echo.Context) error {
	ctx := c.Request().Context()
	mode := c.QueryParam("mode")
	if mode != "" && mode != "full" && mode != "incremental" {
		return errBadRequest("mode must be full or incremental, not %q", mode)
	}
	dry, err := boolParam(c, "dryRun")
	if err != nil {
		return err
	}
	a, err := s.cfg.Store.GetApp(ctx, c.Param("id"))
	if err != nil {
		return notFoundAs(err, "application "+c.Param("id"))
	}
	if a.Push == nil {
		return errNoPush(a)
	}
	run, err := s.cfg.Pushes.Start(ctx, a.ID, outbound.Trigger{Reason: "manual", Full: mode == "full", DryRun: dry})
	if err != nil {
		return err
	}
	s.audit(c, "app.sync", a.ID, "run="+run.ID+" mode="+mode+" dryRun="+boolString(dry))
	c.Response().Header().Set("Location", APIPrefix+"/apps/"+a.ID+"/runs/"+run.ID)
	return c.JSON(http.StatusAccepted, runView(run))
}

func errNoPush(a storage.App) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "no_push",
		Message: "application " + a.Name + " has no push configured; set \"push\" on the app first (PATCH /api/v1/apps/" + a.ID + ")"}
}
