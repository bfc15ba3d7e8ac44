package entra

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/sources"
)

// cursorVersion changes when the cursor's meaning does.
const cursorVersion = 1

// cursor is what a run saves: the two deltaLinks, verbatim (they are
// opaque and carry the $select: delta-query-overview "State tokens"),
// what they were started with, so a changed configuration is noticed,
// and, with scope groups, who was in scope.
//
//	{"v":1,"graph":"https://graph.microsoft.com","select":"id,...,manager",
//	 "users":"https://graph.microsoft.com/v1.0/users/delta?$deltatoken=...",
//	 "groups":"https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=...",
//	 "scope":{"roots":[...],"groups":[...],"users":"<base64 of sorted GUIDs>"}}
type cursor struct {
	V      int        `json:"v"`
	Graph  string     `json:"graph"`
	Select string     `json:"select"`
	Users  string     `json:"users"`
	Groups string     `json:"groups"`
	Scope  *scopeJSON `json:"scope,omitempty"`
}

func (c *cursor) encode() ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("entra: encode cursor: %w", err)
	}
	return b, nil
}

// result ends a round: its two deltaLinks, stamped with the
// configuration they belong to, become the cursor.
func (s *source) result(usersLink, groupsLink string, scope *scopeSet, complete bool) (sources.Result, error) {
	c := &cursor{V: cursorVersion, Graph: s.cfg.graphURL(), Select: s.userSelect(), Users: usersLink, Groups: groupsLink}
	if scope != nil {
		c.Scope = scope.toJSON()
	}
	raw, err := c.encode()
	if err != nil {
		return sources.Result{}, err
	}
	return sources.Result{Complete: complete, Cursor: raw}, nil
}

// scope returns the saved scope, or nil when the source is not scoped.
func (c *cursor) scope() *scopeSet {
	if c.Scope == nil {
		return nil
	}
	return c.Scope.set()
}

// resume decodes the saved cursor. It returns nil when the run must be
// full, with the reason to tell the admin ("" for a first run or a run
// that asked for it).
func (s *source) resume(req sources.Request) (*cursor, string) {
	if req.Full || len(req.Cursor) == 0 {
		return nil, ""
	}
	var c cursor
	if err := json.Unmarshal(req.Cursor, &c); err != nil || c.V != cursorVersion || c.Users == "" || c.Groups == "" {
		return nil, "the saved sync position could not be read: full resync"
	}
	if c.Scope != nil && c.Scope.set() == nil {
		return nil, "the saved sync position could not be read: full resync"
	}
	switch {
	case c.Graph != s.cfg.graphURL():
		return nil, "graphURL changed: full resync"
	case c.Select != s.userSelect():
		// Changes to properties that were not selected were not tracked.
		return nil, "the attributes read from Graph changed: full resync"
	case !slices.Equal(c.rootGroups(), s.cfg.ScopeGroups):
		return nil, "scopeGroups changed: full resync"
	case !strings.HasPrefix(c.Users, c.Graph+"/") || !strings.HasPrefix(c.Groups, c.Graph+"/"):
		return nil, "the saved sync position could not be read: full resync"
	}
	return &c, ""
}

func (c *cursor) rootGroups() []string {
	if c.Scope == nil {
		return []string{}
	}
	return c.Scope.Roots
}
