package console

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// appRunsShown is how many push runs an app's page lists.
const appRunsShown = 10

func (u *Console) routesApps(g *echo.Group) {
	g.GET("/apps", u.handle(u.appsPage))
	g.GET("/apps/new", u.handle(u.newAppPage))
	g.POST("/apps/new", u.handle(func(c echo.Context) error { return u.saveApp(c, nil) }))
	g.GET("/apps/:id", u.handle(u.appPage))
	g.GET("/apps/:id/edit", u.handle(u.editAppPage))
	g.POST("/apps/:id/edit", u.handle(func(c echo.Context) error {
		a, err := u.appOf(c)
		if err != nil {
			return err
		}
		return u.saveApp(c, &a)
	}))
	g.POST("/apps/:id/delete", u.handle(u.deleteApp))
	g.POST("/apps/:id/tokens", u.handle(u.createAppToken))
	u.routesAppPush(g)
}

// appPath is the API path of the request's app.
func appPath(c echo.Context, rest string) string {
	return "/apps/" + url.PathEscape(c.Param("id")) + rest
}

// appOf reads the request's app.
func (u *Console) appOf(c echo.Context) (appDetail, error) {
	var a appDetail
	err := u.get(c, appPath(c, ""), &a)
	return a, err
}

func (u *Console) appsPage(c echo.Context) error {
	var apps struct {
		Apps []appView `json:"apps"`
	}
	if err := u.get(c, "/apps", &apps); err != nil {
		return err
	}
	return u.render(c, http.StatusOK, "apps_list.html", page{Title: "Apps", Nav: "apps", Data: apps.Apps})
}

// appPageData is what apps_view.html shows.
type appPageData struct {
	App     appDetail
	Preview previewView
	Tokens  []tokenView
	// Runs are the push's latest runs; PushRoutes tells whether the server
	// runs pushes at all (a server without a push runner has no routes).
	Runs       runsTable
	PushRoutes bool
	Test       *pushTestReport
	Problem    *APIError
}

func (u *Console) appPage(c echo.Context) error {
	return u.renderAppPage(c, http.StatusOK, nil, nil)
}

// renderAppPage shows the app with the answer of a push test or the
// problem of a form on it, when there is one.
func (u *Console) renderAppPage(c echo.Context, status int, test *pushTestReport, problem *APIError) error {
	d := appPageData{Test: test, Problem: problem}
	var err error
	if d.App, err = u.appOf(c); err != nil {
		return err
	}
	if err := u.get(c, appPath(c, "/preview"), &d.Preview); err != nil {
		return err
	}
	var toks struct {
		Tokens []tokenView `json:"tokens"`
	}
	if err := u.get(c, appPath(c, "/tokens"), &toks); err != nil {
		return err
	}
	d.Tokens = toks.Tokens
	var runs struct {
		Runs []runView `json:"runs"`
	}
	switch err := u.get(c, appPath(c, "/runs?limit="+itoa(appRunsShown)), &runs); {
	case err == nil:
		d.Runs, d.PushRoutes = runsTableOf(Prefix+appRuns.runsPath(d.App.ID), runs.Runs), true
	case notMounted(err):
	default:
		return err
	}
	return u.render(c, status, "apps_view.html", page{Title: d.App.Name, Nav: "apps", Data: d})
}

func (u *Console) deleteApp(c echo.Context) error {
	a, err := u.appOf(c)
	if err != nil {
		return err
	}
	res, err := u.call(c, http.MethodDelete, appPath(c, ""), nil)
	if err != nil {
		return err
	}
	if err := res.Decode(nil); err != nil {
		return err
	}
	return u.redirect(c, "/apps", "App "+a.Name+" deleted; its tokens are revoked.")
}

// createAppToken issues a reader token of the app's view and shows its
// secret in this answer only.
func (u *Console) createAppToken(c echo.Context) error {
	res, err := u.call(c, http.MethodPost, appPath(c, "/tokens"), map[string]string{"name": c.FormValue("name")})
	if err != nil {
		return err
	}
	var tok tokenView
	if err := res.Decode(&tok); err != nil {
		if ae, ok := formError(err); ok {
			return u.renderAppPage(c, formStatus(ae.Status), nil, ae)
		}
		return err
	}
	return u.renderTokenCreated(c, tok, "/ui/apps/"+url.PathEscape(c.Param("id")))
}
