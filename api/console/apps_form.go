package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// appForm is the app definition form as the admin typed it; lists are one
// entry a line, as in the form.
type appForm struct {
	Name, Description string
	ScopeGroups       string
	Filter            string
	ScopeSources      string
	IncludeInactive   bool
	GroupMode         storage.GroupMode
	FlattenGroups     bool
	Attributes        []string
	LeaveGraceDays    string
}

// appBody is the definition the form sends: every field, so the same body
// serves POST /apps and PATCH /apps/{id} (which keeps the push).
type appBody struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Scope       struct {
		Groups          []string `json:"groups"`
		Filter          string   `json:"filter"`
		Sources         []string `json:"sources"`
		IncludeInactive bool     `json:"includeInactive"`
	} `json:"scope"`
	Groups         storage.GroupMode `json:"groups"`
	FlattenGroups  bool              `json:"flattenGroups"`
	Attributes     []string          `json:"attributes"`
	LeaveGraceDays int               `json:"leaveGraceDays"`
}

// attrOption is one attribute checkbox.
type attrOption struct {
	ID, Path, Label string
	Checked         bool
}

// appFormPage is what apps_form.html shows.
type appFormPage struct {
	App        *appDetail // nil for a new app
	Form       appForm
	Attributes []attrOption
	GroupModes []storage.GroupMode
	Problem    *APIError
}

func formOfApp(a appDetail) appForm {
	return appForm{Name: a.Name, Description: a.Description, ScopeGroups: strings.Join(a.Scope.Groups, "\n"),
		Filter: a.Scope.Filter, ScopeSources: strings.Join(a.Scope.Sources, "\n"), IncludeInactive: a.Scope.IncludeInactive,
		GroupMode: a.Groups, FlattenGroups: a.FlattenGroups, Attributes: a.Attributes, LeaveGraceDays: strconv.Itoa(a.LeaveGraceDays)}
}

func readAppForm(c echo.Context) (appForm, error) {
	form, err := c.FormParams()
	if err != nil {
		return appForm{}, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read; reload the page and send it again.")
	}
	return appForm{Name: form.Get("name"), Description: form.Get("description"), ScopeGroups: form.Get("scopeGroups"),
		Filter: form.Get("filter"), ScopeSources: form.Get("scopeSources"), IncludeInactive: form.Get("includeInactive") == "on",
		GroupMode: storage.GroupMode(form.Get("groups")), FlattenGroups: form.Get("flattenGroups") == "on",
		Attributes: form["attributes"], LeaveGraceDays: form.Get("leaveGraceDays")}, nil
}

// body turns the form into the API's definition. A grace period that is
// not a number cannot be sent at all: that one problem is the form's,
// named by the API's field path like the API's own.
func (f appForm) body() (appBody, *APIError) {
	var b appBody
	b.Name, b.Description = f.Name, f.Description
	b.Scope.Groups, b.Scope.Filter, b.Scope.Sources = lines(f.ScopeGroups), f.Filter, lines(f.ScopeSources)
	b.Scope.IncludeInactive = f.IncludeInactive
	b.Groups, b.FlattenGroups, b.Attributes = f.GroupMode, f.FlattenGroups, nonNilList(f.Attributes)
	if s := strings.TrimSpace(f.LeaveGraceDays); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return b, formProblem("leaveGraceDays", "must be a whole number of days, such as 7 (0: gone at once)")
		}
		b.LeaveGraceDays = n
	}
	return b, nil
}

// formProblem is a field a form could not turn into an API request.
func formProblem(field, msg string) *APIError {
	return &APIError{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: "The form has a problem; see " + field + ".",
		Fields: map[string]string{field: msg}}
}

// lines splits a one-entry-a-line field, dropping blank lines.
func lines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// attributeOptions are the user attributes the API offers an app's
// allow-list (GET /app-attributes), with those checked that the app
// allows; an allowed path the list lacks (a sub-attribute such as
// name.givenName) is kept as a checked option of its own, so saving the
// form does not drop it.
func (u *Console) attributeOptions(c echo.Context, checked []string) ([]attrOption, error) {
	var choices struct {
		Attributes []attributeChoice `json:"attributes"`
	}
	if err := u.get(c, "/app-attributes", &choices); err != nil {
		return nil, err
	}
	var opts []attrOption
	add := func(path, label string) {
		opts = append(opts, attrOption{ID: "attr-" + strconv.Itoa(len(opts)), Path: path, Label: label,
			Checked: slices.ContainsFunc(checked, func(c string) bool { return strings.EqualFold(c, path) })})
	}
	for _, a := range choices.Attributes {
		label := a.Name
		if a.Path != a.Name {
			label += " (" + extensionLabel(a.Schema) + ")"
		}
		add(a.Path, label)
	}
	for _, path := range checked {
		if !slices.ContainsFunc(opts, func(o attrOption) bool { return strings.EqualFold(o.Path, path) }) {
			add(path, path)
			opts[len(opts)-1].Checked = true
		}
	}
	return opts, nil
}

// extensionLabel names a schema extension by the last words of its URN
// ("enterprise User" for the enterprise extension).
func extensionLabel(urn string) string {
	parts := strings.Split(urn, ":")
	if len(parts) >= 3 {
		return parts[len(parts)-3] + " " + parts[len(parts)-1]
	}
	return urn
}

func (u *Console) newAppPage(c echo.Context) error {
	return u.renderAppForm(c, http.StatusOK, nil, appForm{IncludeInactive: true, GroupMode: storage.GroupModes[0]}, nil)
}

func (u *Console) editAppPage(c echo.Context) error {
	a, err := u.appOf(c)
	if err != nil {
		return err
	}
	return u.renderAppForm(c, http.StatusOK, &a, formOfApp(a), nil)
}

func (u *Console) renderAppForm(c echo.Context, status int, a *appDetail, f appForm, problem *APIError) error {
	attrs, err := u.attributeOptions(c, f.Attributes)
	if err != nil {
		return err
	}
	title := "Add an app"
	if a != nil {
		title = "Edit " + a.Name
	}
	return u.render(c, status, "apps_form.html", page{Title: title, Nav: "apps", Data: appFormPage{
		App: a, Form: f, Attributes: attrs, GroupModes: storage.GroupModes, Problem: problem}})
}

// saveApp creates the app (a nil existing) or updates its definition,
// then goes to its page; the API's problems come back next to the fields.
func (u *Console) saveApp(c echo.Context, existing *appDetail) error {
	f, err := readAppForm(c)
	if err != nil {
		return err
	}
	body, problem := f.body()
	if problem != nil {
		return u.renderAppForm(c, problem.Status, existing, f, problem)
	}
	method, path, flash := http.MethodPost, "/apps", "App "+body.Name+" added."
	if existing != nil {
		method, path, flash = http.MethodPatch, "/apps/"+url.PathEscape(existing.ID), "App "+body.Name+" saved."
	}
	res, err := u.call(c, method, path, body)
	if err != nil {
		return err
	}
	var saved appDetail
	if err := res.Decode(&saved); err != nil {
		if ae, ok := formError(err); ok {
			return u.renderAppForm(c, formStatus(ae.Status), existing, f, ae)
		}
		return err
	}
	return u.redirect(c, "/apps/"+url.PathEscape(saved.ID), flash)
}

// formStatus is the status a form re-rendered with the API's problem
// answers with: 422 for what the admin can fix in the form, 409 for a
// conflict (a name taken); 0 when the form is not the problem.
func formStatus(apiStatus int) int {
	switch apiStatus {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return http.StatusUnprocessableEntity
	case http.StatusConflict:
		return http.StatusConflict
	}
	return 0
}

// formError is err as an API problem a form can show (a 400, 409 or 422).
func formError(err error) (*APIError, bool) {
	var ae *APIError
	if errors.As(err, &ae) && formStatus(ae.Status) != 0 {
		return ae, true
	}
	return nil, false
}

func itoa(n int) string { return strconv.Itoa(n) }

// groupModeWords say what each group mode gives the app.
var groupModeWords = map[storage.GroupMode]string{
	storage.GroupsScope: "The scope groups and the groups nested in them",
	storage.GroupsAll:   "Every group with a user in view",
	storage.GroupsNone:  "No groups",
}

func groupModeWord(m storage.GroupMode) string {
	if w, ok := groupModeWords[m]; ok {
		return w
	}
	return string(m)
}
