package graphtest

import (
	"fmt"
	"sort"
	"strings"
)

// objState is where an object is in its life.
type objState uint8

const (
	live objState = iota
	// softDeleted objects sit in deletedItems and can be restored for 30
	// days; delta reports them as @removed reason "changed"
	// (delta-query-overview, "Resource representation").
	softDeleted
	// hardDeleted objects are gone for good; delta reports @removed
	// reason "deleted".
	hardDeleted
)

// user is the emulator's record of one user. Every mutation takes the
// next directory sequence number; delta rounds are windows over them.
type user struct {
	id      string
	vals    []string // by userProps index; "" = never set or null
	propSeq []uint64 // by userProps index; nil until a property changes
	created uint64
	state   objState
	// stateSeq is when the user was deleted or restored.
	stateSeq uint64
	manager  string
	// prevManager is the manager a removal of the link names.
	prevManager string
	managerSeq  uint64
	// groupsAtDelete are restored with the user (a restored user gets
	// its memberships back).
	groupsAtDelete []string
	// garbled renders the id as a number (User.Garbled).
	garbled bool
}

func (u *user) seqOf(i int) uint64 {
	if u.propSeq == nil {
		return u.created
	}
	return u.propSeq[i]
}

// link is a membership: a member of a group, present or removed.
type link struct {
	isGroup bool
	present bool
	seq     uint64
}

type group struct {
	id       string
	vals     []string
	propSeq  []uint64
	created  uint64
	state    objState
	stateSeq uint64
	members  map[string]*link
	// order lists member ids in the order they were first added; it only
	// grows, so an index into it is a stable paging position.
	order []string
}

func (g *group) seqOf(i int) uint64 {
	if g.propSeq == nil {
		return g.created
	}
	return g.propSeq[i]
}

// directory is the tenant's data. Callers hold Server.mu.
type directory struct {
	seq    uint64
	users  map[string]*user
	groups map[string]*group
	// sorted ids, rebuilt lazily: rounds page in id order.
	userIDs, groupIDs []string
	usersDirty        bool
	groupsDirty       bool
	rng               uint64
}

func newDirectory() *directory {
	return &directory{users: map[string]*user{}, groups: map[string]*group{}, rng: 0x9e3779b97f4a7c15}
}

func (d *directory) next() uint64 { d.seq++; return d.seq }

// newID returns a deterministic GUID-shaped id (Graph ids are GUIDs).
func (d *directory) newID() string {
	a, b := d.rand(), d.rand()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0xfff,
		uint16(b>>48)&0x3fff|0x8000, b&0xffffffffffff)
}

// rand is splitmix64: tests get the same ids on every run.
func (d *directory) rand() uint64 {
	d.rng += 0x9e3779b97f4a7c15
	z := d.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (d *directory) sortedUsers() []string {
	if d.usersDirty {
		d.userIDs = d.userIDs[:0]
		for id := range d.users {
			d.userIDs = append(d.userIDs, id)
		}
		sort.Strings(d.userIDs)
		d.usersDirty = false
	}
	return d.userIDs
}

func (d *directory) sortedGroups() []string {
	if d.groupsDirty {
		d.groupIDs = d.groupIDs[:0]
		for id := range d.groups {
			d.groupIDs = append(d.groupIDs, id)
		}
		sort.Strings(d.groupIDs)
		d.groupsDirty = false
	}
	return d.groupIDs
}

func (d *directory) setUserProp(u *user, name string, v any, seq uint64) {
	i, ok := userPropIdx[strings.ToLower(name)]
	if !ok {
		panic(fmt.Sprintf("graphtest: unknown user property %q", name))
	}
	enc := encodeValue(userProps[i].kind, v)
	if u.vals[i] == enc {
		return // an update to the same value is not a change
	}
	if u.propSeq == nil && seq != u.created {
		u.propSeq = make([]uint64, len(userProps))
		for j := range u.propSeq {
			u.propSeq[j] = u.created
		}
	}
	u.vals[i] = enc
	if u.propSeq != nil {
		u.propSeq[i] = seq
	}
}

func (d *directory) setGroupProp(g *group, name string, v any, seq uint64) {
	i, ok := groupPropIdx[strings.ToLower(name)]
	if !ok {
		panic(fmt.Sprintf("graphtest: unknown group property %q", name))
	}
	enc := encodeValue(groupProps[i].kind, v)
	if g.vals[i] == enc {
		return
	}
	if g.propSeq == nil && seq != g.created {
		g.propSeq = make([]uint64, len(groupProps))
		for j := range g.propSeq {
			g.propSeq[j] = g.created
		}
	}
	g.vals[i] = enc
	if g.propSeq != nil {
		g.propSeq[i] = seq
	}
}

func (d *directory) user(id string) *user {
	u := d.users[id]
	if u == nil {
		panic(fmt.Sprintf("graphtest: no user %q", id))
	}
	return u
}

func (d *directory) group(id string) *group {
	g := d.groups[id]
	if g == nil {
		panic(fmt.Sprintf("graphtest: no group %q", id))
	}
	return g
}

// setLink adds or removes one membership.
func (d *directory) setLink(g *group, member string, present bool, seq uint64) {
	l := g.members[member]
	if l == nil {
		if !present {
			return
		}
		_, isGroup := d.groups[member]
		l = &link{isGroup: isGroup}
		g.members[member] = l
		g.order = append(g.order, member)
	} else if l.present == present {
		return
	}
	l.present, l.seq = present, seq
}

// groupsOf lists the live groups a member belongs to.
func (d *directory) groupsOf(member string) []string {
	var out []string
	for _, gid := range d.sortedGroups() {
		g := d.groups[gid]
		if l := g.members[member]; l != nil && l.present && g.state == live {
			out = append(out, gid)
		}
	}
	return out
}
