package graphtest

import "fmt"

// SeedOptions sizes a generated directory.
type SeedOptions struct {
	Users  int
	Groups int
	// GroupsPerUser is how many groups each user joins (default 2).
	GroupsPerUser int
	// ManagerEvery gives each block of this many users the block's first
	// user as manager (default 100; the first user of a block has none).
	ManagerEvery int
}

// Seeded lists what Seed created, in creation order.
type Seeded struct {
	Users  []string
	Groups []string
}

// Seed fills the directory with deterministic users and groups: user i is
// user%06d@contoso.example in department dept(i%20), member of groups
// (i % groups) and further groups spaced across the list.
func (s *Server) Seed(o SeedOptions) Seeded {
	if o.GroupsPerUser == 0 {
		o.GroupsPerUser = 2
	}
	if o.ManagerEvery == 0 {
		o.ManagerEvery = 100
	}
	var out Seeded
	s.mu.Lock()
	d := s.dir
	for range o.Users {
		out.Users = append(out.Users, d.newID())
	}
	s.mu.Unlock()
	for i, id := range out.Users {
		mgr := ""
		if i%o.ManagerEvery != 0 {
			mgr = out.Users[i-i%o.ManagerEvery]
		}
		s.AddUser(User{
			ID:                id,
			UserPrincipalName: fmt.Sprintf("user%06d@contoso.example", i),
			DisplayName:       fmt.Sprintf("User %d", i),
			GivenName:         fmt.Sprintf("Given%d", i),
			Surname:           fmt.Sprintf("Family%d", i),
			Mail:              fmt.Sprintf("user%06d@contoso.example", i),
			JobTitle:          "Engineer",
			Department:        fmt.Sprintf("dept%02d", i%20),
			EmployeeID:        fmt.Sprintf("E%06d", i),
			BusinessPhones:    []string{fmt.Sprintf("+1 555 %07d", i)},
			Manager:           mgr,
		})
	}
	members := make([][]string, o.Groups)
	if o.Groups > 0 {
		for i, id := range out.Users {
			for k := range o.GroupsPerUser {
				g := (i + k*(o.Groups/o.GroupsPerUser+1)) % o.Groups
				members[g] = append(members[g], id)
			}
		}
	}
	for g := range o.Groups {
		out.Groups = append(out.Groups, s.AddGroup(Group{
			DisplayName:  fmt.Sprintf("Group %04d", g),
			MailNickname: fmt.Sprintf("group%04d", g),
			Members:      dedupe(members[g]),
		}))
	}
	return out
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
