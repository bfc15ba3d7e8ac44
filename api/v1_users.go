package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// The directory's bookkeeping that SCIM does not show: who owns a user or
// group, a user's direct groups, and the change-log entries of the runs
// that touched it. The resources themselves are read at /scim/v2.

// userJSON is GET /api/v1/users/{id}.
type userJSON struct {
	ID            string               `json:"id"`
	UserName      string               `json:"userName"`
	DisplayName   string               `json:"displayName,omitempty"`
	Active        bool                 `json:"active"`
	Owner         ownerJSON            `json:"owner"`
	Groups        []groupRefJSON       `json:"groups"`
	GroupCount    int                  `json:"groupCount"`
	RecentChanges []resourceChangeJSON `json:"recentChanges"`
}

// groupJSON is GET /api/v1/groups/{id}: the group with one page of its
// direct members.
type groupJSON struct {
	ID            string               `json:"id"`
	DisplayName   string               `json:"displayName"`
	Owner         ownerJSON            `json:"owner"`
	MemberCount   int                  `json:"memberCount"`
	Members       []memberJSON         `json:"members"`
	RecentChanges []resourceChangeJSON `json:"recentChanges"`
}

type groupRefJSON struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

type memberJSON struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Display string `json:"display"`
}

// resourceChangeJSON is a change-log entry with the run that wrote it: a
// source's sync run (sourceId) or an app's push run (appId).
type resourceChangeJSON struct {
	RunID     string            `json:"runId"`
	SourceID  string            `json:"sourceId,omitempty"`
	AppID     string            `json:"appId,omitempty"`
	RunStatus storage.RunStatus `json:"runStatus"`
	Queued    time.Time         `json:"queued"`
	storage.Change
}

// ownedJSON is one entry of GET /api/v1/users?id=... or /groups?id=...
type ownedJSON struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"` // userName or displayName
	Owner ownerJSON `json:"owner"`
}

const (
	// defaultRecentChanges is how many change-log entries a user's or
	// group's answer carries unless ?changes= says otherwise.
	defaultRecentChanges = 20
	// maxUserGroups bounds the direct groups a user's answer lists
	// (groupCount has them all).
	maxUserGroups = 500
	// maxOwnedIDs bounds the ids of one owners lookup: a console page.
	maxOwnedIDs = 200
)

func (s *Server) routesDirectory(g *echo.Group) {
	g.GET("/users", s.handle(s.listOwned(storage.MemberUser, "users")))
	g.GET("/users/:id", s.handle(s.getDirectoryUser))
	g.GET("/groups", s.handle(s.listOwned(storage.MemberGroup, "groups")))
	g.GET("/groups/:id", s.handle(s.getDirectoryGroup))
	s.routesLinks(g)
}

func (s *Server) getDirectoryUser(c echo.Context) error {
	ctx, id := c.Request().Context(), c.Param("id")
	nChanges, err := intParam(c, "changes", defaultRecentChanges, storage.MaxResourceChanges)
	if err != nil {
		return err
	}
	u, err := s.cfg.Store.GetUser(ctx, id)
	if err != nil {
		return notFoundAs(err, "user "+id)
	}
	v := userJSON{ID: u.ID, UserName: u.UserName, DisplayName: u.DisplayName, Active: u.Active, Groups: []groupRefJSON{}}
	if v.Owner, err = s.owners().of(ctx, u.Owner); err != nil {
		return err
	}
	page, err := s.cfg.Store.ListGroups(ctx, storage.Query{
		Filter: storage.ValuePath{Attr: storage.AttrMembers, Filter: storage.Compare{Attr: storage.SubValue, Op: storage.OpEq, Value: u.ID}},
		SortBy: storage.AttrDisplayName, Limit: maxUserGroups,
	}, false)
	if err != nil {
		return err
	}
	v.GroupCount = page.Total
	for _, g := range page.Groups {
		v.Groups = append(v.Groups, groupRefJSON{ID: g.ID, DisplayName: g.DisplayName})
	}
	if v.RecentChanges, err = s.recentChanges(ctx, u.ID, nChanges); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) getDirectoryGroup(c echo.Context) error {
	ctx, id := c.Request().Context(), c.Param("id")
	offset, err := intParam(c, "offset", 0, int(^uint(0)>>1))
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit", 100, 1000)
	if err != nil {
		return err
	}
	nChanges, err := intParam(c, "changes", defaultRecentChanges, storage.MaxResourceChanges)
	if err != nil {
		return err
	}
	g, err := s.cfg.Store.GetGroup(ctx, id, false)
	if err != nil {
		return notFoundAs(err, "group "+id)
	}
	members, total, err := s.cfg.Store.GroupMembers(ctx, g.ID, offset, limit)
	if err != nil {
		return notFoundAs(err, "group "+id)
	}
	v := groupJSON{ID: g.ID, DisplayName: g.DisplayName, MemberCount: total, Members: []memberJSON{}}
	if v.Owner, err = s.owners().of(ctx, g.Owner); err != nil {
		return err
	}
	for _, m := range members {
		v.Members = append(v.Members, memberJSON{ID: m.Value, Type: m.Type, Display: m.Display})
	}
	if v.RecentChanges, err = s.recentChanges(ctx, g.ID, nChanges); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// recentChanges merges the resource's entries in sources' sync runs and
// apps' push runs, newest run first, at most limit of them.
func (s *Server) recentChanges(ctx context.Context, id string, limit int) ([]resourceChangeJSON, error) {
	synced, err := s.cfg.Store.ResourceChanges(ctx, id, limit)
	if err != nil {
		return nil, err
	}
	pushed, err := s.cfg.Store.PushRuns().ResourceChanges(ctx, id, limit)
	if err != nil {
		return nil, err
	}
	out := make([]resourceChangeJSON, 0, min(limit, len(synced)+len(pushed)))
	for len(out) < limit && (len(synced) > 0 || len(pushed) > 0) {
		// Each list is newest first already: take the newer head.
		if len(pushed) == 0 || (len(synced) > 0 && !pushed[0].Queued.After(synced[0].Queued)) {
			rc := synced[0]
			synced = synced[1:]
			out = append(out, resourceChangeJSON{RunID: rc.RunID, SourceID: rc.SourceID, RunStatus: rc.RunStatus, Queued: rc.Queued, Change: rc.Change})
			continue
		}
		rc := pushed[0]
		pushed = pushed[1:]
		out = append(out, resourceChangeJSON{RunID: rc.RunID, AppID: rc.SourceID, RunStatus: rc.RunStatus, Queued: rc.Queued, Change: rc.Change})
	}
	return out, nil
}

// listOwned answers GET /users?id=a&id=b (or /groups): the owners of the
// users or groups named, as a page of search results shows them. Ids
// that name nothing are left out; the answer's list is named key.
func (s *Server) listOwned(kind, key string) func(echo.Context) error {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		ids := c.QueryParams()["id"]
		switch {
		case len(ids) == 0:
			return errBadRequest("name the %s with id parameters: ?id=<id>&id=<id>; search the directory at /scim/v2", key)
		case len(ids) > maxOwnedIDs:
			return errBadRequest("at most %d ids per request, not %d", maxOwnedIDs, len(ids))
		}
		q := storage.Query{Filter: anyID(ids), Limit: len(ids), NoTotal: true}
		type tagged struct{ id, name, owner string }
		var found []tagged
		if kind == storage.MemberUser {
			page, err := s.cfg.Store.ListUsers(ctx, q)
			if err != nil {
				return err
			}
			for _, d := range page.Users {
				u, err := d.Decode()
				if err != nil {
					return err
				}
				found = append(found, tagged{u.ID, u.UserName, u.Owner})
			}
		} else {
			page, err := s.cfg.Store.ListGroups(ctx, q, false)
			if err != nil {
				return err
			}
			for _, g := range page.Groups {
				found = append(found, tagged{g.ID, g.DisplayName, g.Owner})
			}
		}
		names, out := s.owners(), []ownedJSON{}
		for _, f := range found {
			o, err := names.of(ctx, f.owner)
			if err != nil {
				return err
			}
			out = append(out, ownedJSON{ID: f.id, Name: f.name, Owner: o})
		}
		return c.JSON(http.StatusOK, map[string]any{key: out})
	}
}

// anyID matches any of ids, as a balanced tree so that its depth stays
// within the store's filter limits.
func anyID(ids []string) storage.Expr {
	if len(ids) == 1 {
		return storage.Compare{Attr: storage.AttrID, Op: storage.OpEq, Value: ids[0]}
	}
	return storage.Or{Left: anyID(ids[:len(ids)/2]), Right: anyID(ids[len(ids)/2:])}
}
