package oktatest

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"
)

// User is one emulated Okta user.
type User struct {
	ID            string
	Status        string
	Created       time.Time
	Activated     time.Time
	StatusChanged time.Time
	LastUpdated   time.Time
	Profile       map[string]any
	// Garbled lists the user without its id, as Okta never does: for
	// tests of how a source reports a user it cannot read.
	Garbled bool
}

// Group is one emulated Okta group.
type Group struct {
	ID                    string
	Type                  string // OKTA_GROUP, APP_GROUP or BUILT_IN
	Created               time.Time
	LastUpdated           time.Time
	LastMembershipUpdated time.Time
	Profile               map[string]any
	members               []string // user ids, sorted
}

// org is the emulated directory. Users and groups are kept in id order,
// which is the order Okta pages in; ids grow with creation, so a page
// cursor can name the last id seen and survive inserts and deletes.
type org struct {
	users     []string // sorted ids
	userByID  map[string]*User
	groups    []string
	groupByID map[string]*Group
	seq       int
}

func newOrg() *org {
	return &org{userByID: map[string]*User{}, groupByID: map[string]*Group{}}
}

// newID makes an Okta-shaped, 20-character id that sorts by creation.
func (o *org) newID(prefix string) string {
	o.seq++
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := []byte("00000000000000")
	for i, n := len(b)-1, o.seq; n > 0 && i >= 0; i-- {
		b[i] = digits[n%62]
		n /= 62
	}
	return prefix + string(b) + "697"
}

// UserSpec describes a user to add. Status defaults to ACTIVE.
type UserSpec struct {
	Login, Email, FirstName, LastName string
	Status                            string
	// Profile holds further base or custom attributes.
	Profile map[string]any
	// Garbled sets User.Garbled.
	Garbled bool
}

// GroupSpec describes a group to add. Type defaults to OKTA_GROUP.
type GroupSpec struct {
	Name, Description, Type string
}

// AddUser creates a user and returns its id.
func (s *Server) AddUser(spec UserSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUserLocked(spec)
}

func (s *Server) addUserLocked(spec UserSpec) string {
	now := s.clock.Now()
	profile := map[string]any{"login": spec.Login, "email": spec.Email, "firstName": spec.FirstName, "lastName": spec.LastName}
	maps.Copy(profile, spec.Profile)
	status := spec.Status
	if status == "" {
		status = "ACTIVE"
	}
	u := &User{ID: s.org.newID("00u"), Status: status, Created: now, StatusChanged: now, LastUpdated: now, Profile: profile, Garbled: spec.Garbled}
	if status != "STAGED" {
		u.Activated = now
	}
	s.org.users = append(s.org.users, u.ID) // ids grow, so the slice stays sorted
	s.org.userByID[u.ID] = u
	return u.ID
}

// UpdateUser changes profile attributes (a nil value removes one) and
// moves the user's lastUpdated.
func (s *Server) UpdateUser(id string, changes map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.org.userByID[id]
	if !ok {
		return fmt.Errorf("oktatest: no user %s", id)
	}
	for k, v := range changes {
		if v == nil {
			delete(u.Profile, k)
		} else {
			u.Profile[k] = v
		}
	}
	u.LastUpdated = s.clock.Now()
	return nil
}

// SetStatus moves a user to status (a lifecycle operation), updating
// statusChanged and lastUpdated.
func (s *Server) SetStatus(id, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.org.userByID[id]
	if !ok {
		return fmt.Errorf("oktatest: no user %s", id)
	}
	now := s.clock.Now()
	u.Status, u.StatusChanged, u.LastUpdated = status, now, now
	if status != "STAGED" && status != "DEPROVISIONED" && u.Activated.IsZero() {
		u.Activated = now
	}
	return nil
}

// DeleteUser behaves like DELETE /api/v1/users/{id}: the first call
// deactivates (DEPROVISIONED), the second deletes the user for good, after
// which Okta answers 404 E0000007 and no listing shows the user (Users
// API, "Delete a user"; cloud-apis 7). A hard delete also removes the
// user's memberships, which moves those groups' lastMembershipUpdated.
// It reports whether the user is now gone.
func (s *Server) DeleteUser(id string) (gone bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.org.userByID[id]
	if !ok {
		return false, fmt.Errorf("oktatest: no user %s", id)
	}
	now := s.clock.Now()
	if u.Status != "DEPROVISIONED" {
		u.Status, u.StatusChanged, u.LastUpdated = "DEPROVISIONED", now, now
		return false, nil
	}
	delete(s.org.userByID, id)
	s.org.users = removeSorted(s.org.users, id)
	for _, g := range s.org.groupByID {
		if containsSorted(g.members, id) {
			g.members = removeSorted(g.members, id)
			g.LastMembershipUpdated = now
		}
	}
	return true, nil
}

// User returns a copy of the user, for assertions.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.org.userByID[id]
	if !ok {
		return User{}, false
	}
	c := *u
	c.Profile = maps.Clone(u.Profile)
	return c, true
}

// AddGroup creates a group and returns its id.
func (s *Server) AddGroup(spec GroupSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addGroupLocked(spec)
}

func (s *Server) addGroupLocked(spec GroupSpec) string {
	now := s.clock.Now()
	typ := spec.Type
	if typ == "" {
		typ = "OKTA_GROUP"
	}
	g := &Group{ID: s.org.newID("00g"), Type: typ, Created: now, LastUpdated: now, LastMembershipUpdated: now,
		Profile: map[string]any{"name": spec.Name, "description": spec.Description}}
	s.org.groups = append(s.org.groups, g.ID)
	s.org.groupByID[g.ID] = g
	return g.ID
}

// RenameGroup changes the group's name, moving its lastUpdated.
func (s *Server) RenameGroup(id, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.org.groupByID[id]
	if !ok {
		return fmt.Errorf("oktatest: no group %s", id)
	}
	g.Profile["name"] = name
	g.LastUpdated = s.clock.Now()
	return nil
}

// DeleteGroup removes a group.
func (s *Server) DeleteGroup(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.org.groupByID[id]; !ok {
		return fmt.Errorf("oktatest: no group %s", id)
	}
	delete(s.org.groupByID, id)
	s.org.groups = removeSorted(s.org.groups, id)
	return nil
}

// AddMember puts a user in a group. Only the group's
// lastMembershipUpdated moves: a membership change leaves the user's
// lastUpdated alone (Groups API filter table; cloud-apis 8).
func (s *Server) AddMember(groupID, userID string) error {
	return s.changeMember(groupID, userID, true)
}

// RemoveMember takes a user out of a group; see AddMember.
func (s *Server) RemoveMember(groupID, userID string) error {
	return s.changeMember(groupID, userID, false)
}

func (s *Server) changeMember(groupID, userID string, add bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.org.groupByID[groupID]
	if !ok {
		return fmt.Errorf("oktatest: no group %s", groupID)
	}
	if _, ok := s.org.userByID[userID]; !ok {
		return fmt.Errorf("oktatest: no user %s", userID)
	}
	if add == containsSorted(g.members, userID) {
		return nil
	}
	if add {
		g.members = insertSorted(g.members, userID)
	} else {
		g.members = removeSorted(g.members, userID)
	}
	g.LastMembershipUpdated = s.clock.Now()
	return nil
}

// Members returns a group's member ids, for assertions.
func (s *Server) Members(groupID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.org.groupByID[groupID]; ok {
		return slices.Clone(g.members)
	}
	return nil
}

// Seed fills the org quickly for benchmarks: users u0..u(n-1) with the
// given profile function, groups g0..g(m-1), and memberships from
// member(user index) (a list of group indexes). It returns the ids.
func (s *Server) Seed(nUsers, nGroups int, profile func(i int) UserSpec, member func(i int) []int) (users, groups []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range nGroups {
		groups = append(groups, s.addGroupLocked(GroupSpec{Name: fmt.Sprintf("Group %04d", i), Description: "seeded"}))
	}
	for i := range nUsers {
		id := s.addUserLocked(profile(i))
		users = append(users, id)
		for _, gi := range member(i) {
			g := s.org.groupByID[groups[gi]]
			g.members = append(g.members, id) // users are added in id order
		}
	}
	return users, groups
}

func containsSorted(list []string, id string) bool {
	i := sort.SearchStrings(list, id)
	return i < len(list) && list[i] == id
}

func insertSorted(list []string, id string) []string {
	i := sort.SearchStrings(list, id)
	return slices.Insert(list, i, id)
}

func removeSorted(list []string, id string) []string {
	i := sort.SearchStrings(list, id)
	if i < len(list) && list[i] == id {
		return slices.Delete(list, i, i+1)
	}
	return list
}
