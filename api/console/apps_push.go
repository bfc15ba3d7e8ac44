package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

func (u *Console) routesAppPush(g *echo.Group) {
	g.GET("/apps/:id/push", u.handle(u.pushPage))
	g.POST("/apps/:id/push", u.handle(u.savePush))
	g.POST("/apps/:id/push/remove", u.handle(u.removePush))
	g.POST("/apps/:id/push/test", u.handle(u.testPush))
	g.POST("/apps/:id/push/sync", u.handle(u.syncPush))
}

// pushForm is the push settings form as typed. Secrets are never shown:
// a blank secret field keeps what is stored.
type pushForm struct {
	URL, AuthType, Token, TokenURL, ClientID, ClientSecret, Scope string
	Schedule, AfterChangeSeconds, Profile, Match, OnLeave         string
	MaxPercent, MaxCount                                          string
	Enabled                                                       bool
}

// pushFormPage is what apps_push.html shows.
type pushFormPage struct {
	App       appDetail
	Form      pushForm
	TokenSet  bool // a bearer token is stored
	SecretSet bool // an oauth2 client secret is stored
	AuthTypes []string
	OnLeaves  []string
	Profiles  []pushProfile // from GET /push-profiles
	Problem   *APIError
	NewPush   bool
}

// pushProfile is a target profile as GET /api/v1/push-profiles lists it.
type pushProfile struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Default     bool   `json:"default"`
}

func formOfPush(p *pushDetail) pushForm {
	if p == nil {
		return pushForm{AuthType: storage.PushAuthTypes[0], Match: "userName", OnLeave: storage.OnLeaveActions[0], Enabled: true}
	}
	return pushForm{URL: p.URL, AuthType: p.Auth.Type, TokenURL: p.Auth.TokenURL, ClientID: p.Auth.ClientID, Scope: p.Auth.Scope,
		Schedule: p.Schedule, AfterChangeSeconds: strconv.Itoa(p.AfterChangeSeconds), Profile: p.Profile,
		Match: strings.Join(p.Match, ", "), OnLeave: p.OnLeave, MaxPercent: strconv.FormatFloat(p.Deletion.MaxPercent, 'f', -1, 64),
		MaxCount: strconv.Itoa(p.Deletion.MaxCount), Enabled: p.Enabled}
}

func readPushForm(c echo.Context) pushForm {
	v := c.FormValue
	return pushForm{URL: v("url"), AuthType: v("authType"), Token: v("token"), TokenURL: v("tokenURL"), ClientID: v("clientId"),
		ClientSecret: v("clientSecret"), Scope: v("scope"), Schedule: v("schedule"), AfterChangeSeconds: v("afterChangeSeconds"),
		Profile: v("profile"), Match: v("match"), OnLeave: v("onLeave"), MaxPercent: v("maxPercent"), MaxCount: v("maxCount"),
		Enabled: v("enabled") == "on"}
}

// body is the push the form sends (PATCH /apps/{id} {"push": ...}). A
// blank secret, profile or number is not sent, so the stored one (or, for
// a new push, the API's default) stays; fields of the other
// auth type are not sent, so switching types leaves nothing behind. The
// numbers the form cannot read are its own problems, by the API's paths.
func (f pushForm) body() (map[string]any, *APIError) {
	auth := map[string]any{"type": f.AuthType}
	switch f.AuthType {
	case storage.PushAuthOAuth2:
		auth["tokenURL"], auth["clientId"], auth["scope"] = f.TokenURL, f.ClientID, f.Scope
		if f.ClientSecret != "" {
			auth["clientSecret"] = f.ClientSecret
		}
	default:
		// The oauth2 settings a stored push may still have would make the
		// API refuse a bearer push: they go.
		auth["tokenURL"], auth["clientId"], auth["scope"] = "", "", ""
		if f.Token != "" {
			auth["token"] = f.Token
		}
	}
	match := []string{}
	for _, m := range strings.FieldsFunc(f.Match, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		match = append(match, m)
	}
	push := map[string]any{"url": f.URL, "auth": auth, "schedule": f.Schedule, "match": match,
		"onLeave": f.OnLeave, "enabled": f.Enabled}
	if p := strings.TrimSpace(f.Profile); p != "" {
		push["profile"] = p // else the API's default profile
	}
	n, problem := formInt("push.afterChangeSeconds", f.AfterChangeSeconds, "a whole number of seconds, such as 60 (0: no push after changes)")
	if problem != nil {
		return nil, problem
	}
	if n != nil {
		push["afterChangeSeconds"] = *n
	}
	deletion := map[string]any{}
	if s := strings.TrimSpace(f.MaxPercent); s != "" {
		pct, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil {
			return nil, formProblem("push.deletion.maxPercent", "must be a number between 0 (no limit) and 100, such as 20")
		}
		deletion["maxPercent"] = pct
	}
	cnt, problem := formInt("push.deletion.maxCount", f.MaxCount, "a whole number, such as 50 (0: no limit)")
	if problem != nil {
		return nil, problem
	}
	if cnt != nil {
		deletion["maxCount"] = *cnt
	}
	push["deletion"] = deletion
	return push, nil
}

// formInt reads a whole number field; nil when blank (not sent, so the
// stored value, or the API's default, stays).
func formInt(field, v, want string) (*int, *APIError) {
	s := strings.TrimSpace(v)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, formProblem(field, "must be "+want)
	}
	return &n, nil
}

func (u *Console) pushPage(c echo.Context) error {
	a, err := u.appOf(c)
	if err != nil {
		return err
	}
	return u.renderPushForm(c, http.StatusOK, a, formOfPush(a.Push), nil)
}

func (u *Console) renderPushForm(c echo.Context, status int, a appDetail, f pushForm, problem *APIError) error {
	d := pushFormPage{App: a, Form: f, AuthTypes: storage.PushAuthTypes, OnLeaves: storage.OnLeaveActions, Problem: problem, NewPush: a.Push == nil}
	var profiles struct {
		Profiles []pushProfile `json:"profiles"`
	}
	if err := u.get(c, "/push-profiles", &profiles); err != nil {
		return err
	}
	d.Profiles = profiles.Profiles
	if a.Push != nil {
		d.TokenSet, d.SecretSet = a.Push.Auth.Token != "", a.Push.Auth.ClientSecret != ""
	}
	return u.render(c, status, "apps_push.html", page{Title: "Push settings of " + a.Name, Nav: "apps", Data: d})
}

func (u *Console) savePush(c echo.Context) error {
	a, err := u.appOf(c)
	if err != nil {
		return err
	}
	f := readPushForm(c)
	push, problem := f.body()
	if problem != nil {
		return u.renderPushForm(c, problem.Status, a, f, problem)
	}
	res, err := u.call(c, http.MethodPatch, appPath(c, ""), map[string]any{"push": push})
	if err != nil {
		return err
	}
	if err := res.Decode(nil); err != nil {
		if ae, ok := formError(err); ok {
			return u.renderPushForm(c, formStatus(ae.Status), a, f, ae)
		}
		return err
	}
	return u.redirect(c, "/apps/"+url.PathEscape(a.ID), "Push settings of "+a.Name+" saved.")
}

func (u *Console) removePush(c echo.Context) error {
	res, err := u.call(c, http.MethodPatch, appPath(c, ""), map[string]any{"push": nil})
	if err != nil {
		return err
	}
	if err := res.Decode(nil); err != nil {
		return err
	}
	return u.redirect(c, "/apps/"+url.PathEscape(c.Param("id")), "Push removed; the app now only pulls.")
}

// testPush reaches the app's target and shows each check on the app's
// page.
func (u *Console) testPush(c echo.Context) error {
	res, err := u.call(c, http.MethodPost, appPath(c, "/test"), nil)
	if err != nil {
		return err
	}
	var report pushTestReport
	if err := res.Decode(&report); err != nil {
		if ae, ok := formError(err); ok {
			return u.renderAppPage(c, formStatus(ae.Status), nil, ae)
		}
		return err
	}
	return u.renderAppPage(c, http.StatusOK, &report, nil)
}

// syncPush starts a push now and goes to its run.
func (u *Console) syncPush(c echo.Context) error {
	q := url.Values{}
	if c.FormValue("mode") == "full" {
		q.Set("mode", "full")
	}
	if c.FormValue("dryRun") == "on" {
		q.Set("dryRun", "true")
	}
	path := appPath(c, "/sync")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	res, err := u.call(c, http.MethodPost, path, nil)
	if err != nil {
		return err
	}
	var run runView
	if err := res.Decode(&run); err != nil {
		if ae, ok := formError(err); ok {
			return u.renderAppPage(c, formStatus(ae.Status), nil, ae)
		}
		return err
	}
	return u.redirect(c, "/apps/"+url.PathEscape(c.Param("id"))+"/push/runs/"+url.PathEscape(run.ID), "Push started.")
}

// authTypeWords and onLeaveWords name the push's choices for the admin.
var (
	authTypeWords = map[string]string{
		storage.PushAuthBearer: "Bearer token",
		storage.PushAuthOAuth2: "OAuth 2.0 client credentials",
	}
	onLeaveWords = map[string]string{
		storage.OnLeaveDeactivate: "Deactivate them in the app",
		storage.OnLeaveDelete:     "Delete them from the app",
	}
)

func authTypeWord(t string) string { return wordOr(authTypeWords, t) }
func onLeaveWord(a string) string  { return wordOr(onLeaveWords, a) }

func wordOr(words map[string]string, key string) string {
	if w, ok := words[key]; ok {
		return w
	}
	return key
}
