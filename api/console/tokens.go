package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

func (u *Console) routesTokens(g *echo.Group) {
	g.GET("/tokens", u.handle(u.tokensPage))
	g.POST("/tokens", u.handle(u.createToken))
	g.POST("/tokens/revoke", u.handle(u.revokeToken))
}

// tokenForm is the "Create token" form as typed.
type tokenForm struct {
	Name string
	Role storage.Role
	App  string
}

// tokensPageData is what tokens_list.html shows.
type tokensPageData struct {
	Tokens  []tokenView
	Apps    []appView
	Roles   []storage.Role
	Form    tokenForm
	Problem *APIError
}

func (u *Console) tokensPage(c echo.Context) error {
	return u.renderTokens(c, http.StatusOK, tokenForm{Role: storage.Roles[0]}, nil)
}

func (u *Console) renderTokens(c echo.Context, status int, f tokenForm, problem *APIError) error {
	var toks struct {
		Tokens []tokenView `json:"tokens"`
	}
	if err := u.get(c, "/tokens", &toks); err != nil {
		return err
	}
	var apps struct {
		Apps []appView `json:"apps"`
	}
	if err := u.get(c, "/apps", &apps); err != nil {
		return err
	}
	return u.render(c, status, "tokens_list.html", page{Title: "Tokens", Nav: "tokens", Data: tokensPageData{
		Tokens: toks.Tokens, Apps: apps.Apps, Roles: storage.Roles, Form: f, Problem: problem}})
}

// createToken issues a token and shows its secret in this answer, the
// only place it ever appears: never in a URL, a cookie or a redirect.
func (u *Console) createToken(c echo.Context) error {
	f := tokenForm{Name: c.FormValue("name"), Role: storage.Role(c.FormValue("role")), App: strings.TrimSpace(c.FormValue("app"))}
	res, err := u.call(c, http.MethodPost, "/tokens", map[string]string{"name": f.Name, "role": string(f.Role), "app": f.App})
	if err != nil {
		return err
	}
	var tok tokenView
	if err := res.Decode(&tok); err != nil {
		if ae, ok := formError(err); ok {
			return u.renderTokens(c, formStatus(ae.Status), f, ae)
		}
		return err
	}
	return u.renderTokenCreated(c, tok, "/ui/tokens")
}

// tokenCreatedData is what tokens_created.html shows.
type tokenCreatedData struct {
	Token tokenView
	Back  string
}

func (u *Console) renderTokenCreated(c echo.Context, tok tokenView, back string) error {
	return u.render(c, http.StatusCreated, "tokens_created.html", page{Title: "Token " + tok.Name + " created", Nav: "tokens",
		Data: tokenCreatedData{Token: tok, Back: back}})
}

// revokeToken revokes the token the form names and goes back to the page
// the form was on: an app's page when it names the app.
func (u *Console) revokeToken(c echo.Context) error {
	name := c.FormValue("name")
	if name == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "No token was named; go back to the tokens and use a token's Revoke button.")
	}
	res, err := u.call(c, http.MethodDelete, "/tokens/"+url.PathEscape(name), nil)
	if err != nil {
		return err
	}
	if err := res.Decode(nil); err != nil {
		return err
	}
	back := "/tokens"
	if app := c.FormValue("app"); app != "" {
		back = "/apps/" + url.PathEscape(app)
	}
	return u.redirect(c, back, "Token "+name+" revoked.")
}

// tokenRows is the dot of the "token-rows" snippet: the tokens, the
// page's CSRF value and, on an app's page, the app's id (whose column the
// rows then leave out).
type tokenRows struct {
	Tokens    []tokenView
	CSRF, App string
}

func newTokenRows(toks []tokenView, csrf, app string) tokenRows {
	return tokenRows{Tokens: toks, CSRF: csrf, App: app}
}

// roleWords say what each role may do.
var roleWords = map[storage.Role]string{
	storage.RoleReader: "Reader: reads /scim/v2",
	storage.RoleWriter: "Writer: a push client, reads and writes /scim/v2",
	storage.RoleAdmin:  "Admin: the config API and this console",
}

func roleWord(r storage.Role) string {
	if w, ok := roleWords[r]; ok {
		return w
	}
	return string(r)
}
