package graphtest

import (
	"fmt"
	"time"
)

// User is a user to add. Empty fields stay unset, and Graph omits unset
// properties from responses.
type User struct {
	ID                    string // generated when empty
	UserPrincipalName     string
	DisplayName           string
	GivenName             string
	Surname               string
	Mail                  string
	JobTitle              string
	Department            string
	EmployeeID            string
	CompanyName           string
	MobilePhone           string
	BusinessPhones        []string
	OfficeLocation        string
	PreferredLanguage     string
	OnPremisesImmutableID string
	// Disabled sets accountEnabled to false (it is true otherwise).
	Disabled bool
	// Manager is the manager's id.
	Manager string
	// Extra sets any other property by its Graph name.
	Extra map[string]any
	// Garbled makes delta render the user with a number for its id, which
	// Graph never sends: for tests of how a source reports an object it
	// cannot read.
	Garbled bool
}

// Group is a group to add.
type Group struct {
	ID           string
	DisplayName  string
	Description  string
	MailNickname string
	// Members are user or group ids.
	Members []string
}

// The mutation API panics on a programming mistake in a test (an unknown
// id or property), so stories read without error checks.

// AddUser creates a user and returns its id.
func (s *Server) AddUser(in User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	id := in.ID
	if id == "" {
		id = d.newID()
	}
	if _, dup := d.users[id]; dup {
		panic(fmt.Sprintf("graphtest: user %s exists", id))
	}
	seq := d.next()
	u := &user{id: id, vals: make([]string, len(userProps)), created: seq, garbled: in.Garbled}
	set := func(name string, v any) { d.setUserProp(u, name, v, seq) }
	set("userPrincipalName", in.UserPrincipalName)
	set("displayName", in.DisplayName)
	set("givenName", in.GivenName)
	set("surname", in.Surname)
	set("mail", in.Mail)
	set("jobTitle", in.JobTitle)
	set("department", in.Department)
	set("employeeId", in.EmployeeID)
	set("companyName", in.CompanyName)
	set("mobilePhone", in.MobilePhone)
	set("businessPhones", in.BusinessPhones)
	set("officeLocation", in.OfficeLocation)
	set("preferredLanguage", in.PreferredLanguage)
	set("onPremisesImmutableId", in.OnPremisesImmutableID)
	set("accountEnabled", !in.Disabled)
	set("createdDateTime", s.now().UTC().Format(time.RFC3339))
	for k, v := range in.Extra {
		set(k, v)
	}
	if in.Manager != "" {
		u.manager, u.managerSeq = in.Manager, seq
	}
	d.users[id] = u
	d.usersDirty = true
	return id
}

// UpdateUser sets properties by their Graph names; nil clears one.
func (s *Server) UpdateUser(id string, props map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	u := d.user(id)
	seq := d.next()
	for k, v := range props {
		d.setUserProp(u, k, v, seq)
	}
}

// DisableUser sets accountEnabled to false.
func (s *Server) DisableUser(id string) { s.UpdateUser(id, map[string]any{"accountEnabled": false}) }

// EnableUser sets accountEnabled to true.
func (s *Server) EnableUser(id string) { s.UpdateUser(id, map[string]any{"accountEnabled": true}) }

// SetManager sets (or, with "", removes) a user's manager.
func (s *Server) SetManager(id, managerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	u := d.user(id)
	if u.manager == managerID {
		return
	}
	u.prevManager, u.manager, u.managerSeq = u.manager, managerID, d.next()
}

// DeleteUser moves a user to deletedItems (restorable): delta reports it
// as @removed "changed". Its memberships are removed, and come back on
// restore.
func (s *Server) DeleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	u := d.user(id)
	if u.state != live {
		return
	}
	seq := d.next()
	u.groupsAtDelete = d.groupsOf(id)
	for _, gid := range u.groupsAtDelete {
		d.setLink(d.groups[gid], id, false, seq)
	}
	u.state, u.stateSeq = softDeleted, seq
}

// PurgeUser deletes a user permanently (from deletedItems, or directly):
// delta reports it as @removed "deleted".
func (s *Server) PurgeUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	u := d.user(id)
	seq := d.next()
	for _, gid := range d.groupsOf(id) {
		d.setLink(d.groups[gid], id, false, seq)
	}
	u.state, u.stateSeq, u.groupsAtDelete = hardDeleted, seq, nil
}

// RestoreUser brings a soft-deleted user back with its memberships; delta
// reports it again as a normal entry (delta-query-users).
func (s *Server) RestoreUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	u := d.user(id)
	if u.state != softDeleted {
		panic(fmt.Sprintf("graphtest: user %s is not in deletedItems", id))
	}
	seq := d.next()
	u.state, u.stateSeq = live, seq
	for _, gid := range u.groupsAtDelete {
		if g := d.groups[gid]; g != nil && g.state == live {
			d.setLink(g, id, true, seq)
		}
	}
	u.groupsAtDelete = nil
}

// AddGroup creates a group and returns its id.
func (s *Server) AddGroup(in Group) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	id := in.ID
	if id == "" {
		id = d.newID()
	}
	if _, dup := d.groups[id]; dup {
		panic(fmt.Sprintf("graphtest: group %s exists", id))
	}
	seq := d.next()
	g := &group{id: id, vals: make([]string, len(groupProps)), created: seq, members: map[string]*link{}}
	d.setGroupProp(g, "displayName", in.DisplayName, seq)
	d.setGroupProp(g, "description", in.Description, seq)
	d.setGroupProp(g, "mailNickname", in.MailNickname, seq)
	d.setGroupProp(g, "securityEnabled", true, seq)
	d.setGroupProp(g, "mailEnabled", false, seq)
	d.setGroupProp(g, "createdDateTime", s.now().UTC().Format(time.RFC3339), seq)
	d.groups[id] = g
	d.groupsDirty = true
	for _, m := range in.Members {
		d.checkMember(m)
		d.setLink(g, m, true, seq)
	}
	return id
}

func (d *directory) checkMember(id string) {
	if u := d.users[id]; u != nil && u.state == live {
		return
	}
	if g := d.groups[id]; g != nil && g.state == live {
		return
	}
	panic(fmt.Sprintf("graphtest: no live user or group %q to add as a member", id))
}

// UpdateGroup sets group properties by their Graph names.
func (s *Server) UpdateGroup(id string, props map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	g := d.group(id)
	seq := d.next()
	for k, v := range props {
		d.setGroupProp(g, k, v, seq)
	}
}

// AddMembers adds users or groups to a group.
func (s *Server) AddMembers(groupID string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	g := d.group(groupID)
	seq := d.next()
	for _, m := range members {
		d.checkMember(m)
		d.setLink(g, m, true, seq)
	}
}

// RemoveMembers removes members from a group.
func (s *Server) RemoveMembers(groupID string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	g := d.group(groupID)
	seq := d.next()
	for _, m := range members {
		d.setLink(g, m, false, seq)
	}
}

// DeleteGroup deletes a security group; security groups are not
// restorable, so delta reports @removed "deleted".
func (s *Server) DeleteGroup(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dir
	g := d.group(id)
	seq := d.next()
	g.state, g.stateSeq = hardDeleted, seq
	for _, other := range d.groups {
		if l := other.members[id]; l != nil && l.present {
			d.setLink(other, id, false, seq)
		}
	}
}

// Members returns a group's current member ids (for assertions).
func (s *Server) Members(groupID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.dir.group(groupID)
	var out []string
	for _, m := range g.order {
		if g.members[m].present {
			out = append(out, m)
		}
	}
	return out
}

// UserPrincipalName returns a user's UPN (for assertions).
func (s *Server) UserPrincipalName(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dir.user(id).vals[userPropIdx["userprincipalname"]]
}
