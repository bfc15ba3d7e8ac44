package entra

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// scopeSet is who is in scope when scopeGroups is set: the scope groups,
// the groups nested in them at any depth, and every user member of those.
type scopeSet struct {
	roots  []string
	groups map[string]bool
	users  map[string]bool
}

func (s *scopeSet) hasUser(id string) bool  { return s.users[strings.ToLower(id)] }
func (s *scopeSet) hasGroup(id string) bool { return s.groups[strings.ToLower(id)] }

// scopeFromGroups walks the membership graph of a full round down from
// the roots; cycles are possible, so visited groups are not walked again.
// A root that does not exist fails the run: treating its members as gone
// would deactivate everyone.
func scopeFromGroups(roots []string, groups map[string]*groupAcc) (*scopeSet, error) {
	s := &scopeSet{roots: roots, groups: map[string]bool{}, users: map[string]bool{}}
	queue := []string{}
	for _, r := range roots {
		if groups[r] == nil {
			return nil, fmt.Errorf("entra: scope group %s was not found in the tenant (or the app cannot read it); fix scopeGroups", r)
		}
		queue = append(queue, r)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if s.groups[id] {
			continue
		}
		s.groups[id] = true
		g := groups[id]
		if g == nil {
			continue // a nested group the app cannot see
		}
		for m, isGroup := range g.members {
			if isGroup {
				queue = append(queue, strings.ToLower(m))
			} else {
				s.users[strings.ToLower(m)] = true
			}
		}
	}
	return s, nil
}

// joiners takes a round's group changes into the scope: users added to a
// scope group who were not in scope yet join it, and are returned so the
// round can read their records. recompute reports a change the saved scope
// cannot follow on its own: a member leaving a scope group (the user may
// still be in scope through another), a group added to one (its members
// are not in the round) or a scope group deleted. Then who is in scope
// must be worked out again from a full round. Joining is the common case
// (a new hire added to the synced group) and stays incremental.
func (s *scopeSet) joiners(changes map[string]*groupChange) (joined []string, recompute bool) {
	for _, id := range sortedKeys(changes) {
		ch := changes[id]
		if !s.hasGroup(id) {
			continue
		}
		if ch.removed || len(ch.remove) > 0 {
			return nil, true
		}
		for _, m := range sortedKeys(ch.add) {
			if ch.add[m] { // a group
				return nil, true
			}
			if !s.hasUser(m) {
				s.users[strings.ToLower(m)] = true
				joined = append(joined, m)
			}
		}
	}
	return joined, false
}

// scopeJSON is the scope as the cursor keeps it. Users, the big part, are
// sorted GUIDs packed 16 bytes each and base64-encoded (about 22 bytes a
// user); ids that are not GUIDs go in UserList.
type scopeJSON struct {
	Roots    []string `json:"roots"`
	Groups   []string `json:"groups"`
	Users    string   `json:"users,omitempty"`
	UserList []string `json:"userList,omitempty"`
}

func (s *scopeSet) toJSON() *scopeJSON {
	out := &scopeJSON{Roots: s.roots, Groups: sortedKeys(s.groups)}
	ids := sortedKeys(s.users)
	packed := make([]byte, 0, 16*len(ids))
	for _, id := range ids {
		b, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
		if err != nil || len(b) != 16 || !guidRE.MatchString(id) {
			out.UserList = ids
			return out
		}
		packed = append(packed, b...)
	}
	out.Users = base64.StdEncoding.EncodeToString(packed)
	return out
}

// set unpacks a saved scope; nil if it is damaged.
func (j *scopeJSON) set() *scopeSet {
	s := &scopeSet{roots: j.Roots, groups: map[string]bool{}, users: map[string]bool{}}
	if s.roots == nil {
		s.roots = []string{}
	}
	slices.Sort(s.roots)
	for _, g := range j.Groups {
		s.groups[g] = true
	}
	for _, u := range j.UserList {
		s.users[u] = true
	}
	raw, err := base64.StdEncoding.DecodeString(j.Users)
	if err != nil || len(raw)%16 != 0 {
		return nil
	}
	for i := 0; i < len(raw); i += 16 {
		h := hex.EncodeToString(raw[i : i+16])
		s.users[h[0:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:]] = true
	}
	return s
}
