package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// previewPageSize is how many users and groups a preview shows.
const previewPageSize = 20

// previewJSON is what an app would see now, before a token is handed out.
type previewJSON struct {
	Users      int                `json:"users"`
	Groups     int                `json:"groups"`
	Departed   int                `json:"departed"`
	UsersPage  []previewUserJSON  `json:"usersPage"`
	GroupsPage []previewGroupJSON `json:"groupsPage"`
}

// previewUserJSON summarises a user as the app sees them; the full
// resource (shaped by the allow-list) is what /scim/v2 serves.
type previewUserJSON struct {
	ID           string    `json:"id"`
	UserName     string    `json:"userName"`
	DisplayName  string    `json:"displayName,omitempty"`
	Active       bool      `json:"active"`
	Departed     bool      `json:"departed"`
	LastModified time.Time `json:"lastModified"`
}

type previewGroupJSON struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// Members counts the members the app sees (users in view, groups in
	// view, or every user reached through nesting when flattened).
	Members      int       `json:"members"`
	LastModified time.Time `json:"lastModified"`
}

// previewApp reads the first page of the view through the store, as the
// app's own token would.
func (s *Server) previewApp(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.cfg.Store.GetApp(ctx, c.Param("id"))
	if err != nil {
		return notFoundAs(err, "application "+c.Param("id"))
	}
	counts, err := s.cfg.Store.AppCounts(ctx, a.ID)
	if err != nil {
		return err
	}
	q := storage.Query{View: a.ID, Limit: previewPageSize, NoTotal: true}
	users, err := s.cfg.Store.ListUsers(ctx, q)
	if err != nil {
		return err
	}
	groups, err := s.cfg.Store.ListGroups(ctx, q, true)
	if err != nil {
		return err
	}
	out := previewJSON{Users: counts.Users, Groups: counts.Groups, Departed: counts.Departed,
		UsersPage: make([]previewUserJSON, 0, len(users.Users)), GroupsPage: make([]previewGroupJSON, 0, len(groups.Groups))}
	for _, d := range users.Users {
		u, err := d.Decode()
		if err != nil {
			return err
		}
		out.UsersPage = append(out.UsersPage, previewUserJSON{ID: u.ID, UserName: u.UserName, DisplayName: u.DisplayName,
			Active: u.Active, Departed: d.Departed, LastModified: u.Meta.LastModified})
	}
	for _, g := range groups.Groups {
		out.GroupsPage = append(out.GroupsPage, previewGroupJSON{ID: g.ID, DisplayName: g.DisplayName,
			Members: len(g.Members), LastModified: g.Meta.LastModified})
	}
	return c.JSON(http.StatusOK, out)
}
