package graphtest

import "sort"

// groupPage renders the next page of groups. A group's members@delta
// lists its current members in the initial round and the links added or
// removed in later ones; a group with more entries than the page has room
// for is cut, and the same group (with the same properties) continues on
// the next page with the rest (delta-query-groups, "Paging through
// members in a large group"). A group without members omits
// members@delta.
func (s *Server) groupPage(st stateToken) ([]byte, stateToken, bool) {
	ids := s.dir.sortedGroups()
	var i int
	if st.G != "" {
		i = sort.SearchStrings(ids, st.G)
	} else {
		i = sort.SearchStrings(ids, st.P)
		if i < len(ids) && ids[i] == st.P {
			i++
		}
	}
	var b []byte
	n, budget := 0, s.opts.MemberBudget
	for ; i < len(ids); i++ {
		g := s.dir.groups[ids[i]]
		from := 0
		if g.id == st.G {
			from = st.O
		}
		st.G, st.O = "", 0
		if !st.wants(g.id) || !s.groupInRound(g, st) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		var resume int
		b, resume = s.appendDeltaGroup(b, g, st, from, &budget)
		n++
		if resume >= 0 { // the group continues on the next page
			st.G, st.O = g.id, resume
			return b, st, false
		}
		st.P = g.id
		if n >= s.opts.GroupPageSize || budget <= 0 {
			i++
			break
		}
	}
	return b, st, i >= len(ids)
}

func (s *Server) groupInRound(g *group, st stateToken) bool {
	if g.created > st.B {
		return false
	}
	if st.A == 0 {
		return g.state != hardDeleted
	}
	if st.inWindow(g.created) || st.inWindow(g.stateSeq) {
		return true
	}
	if g.propSeq != nil {
		for i := range groupProps {
			if st.S&(1<<i) != 0 && st.inWindow(g.propSeq[i]) {
				return true
			}
		}
	}
	if st.N {
		for _, l := range g.members {
			if st.inWindow(l.seq) {
				return true
			}
		}
	}
	return false
}

// linkInRound says whether a member link belongs in this round's
// members@delta, and whether as a removal.
func linkInRound(l *link, st stateToken, fresh bool) (in, removed bool) {
	if fresh {
		return l.present, false
	}
	if st.inWindow(l.seq) {
		return true, !l.present
	}
	return false, false
}

// appendDeltaGroup renders a group with members@delta entries from
// position from of its member order, spending *budget; it returns the
// position to resume from, or -1 when the group is complete. Changed
// groups carry every selected property, changed or not
// (delta-query-groups: "Both changed and unchanged properties are
// included").
func (s *Server) appendDeltaGroup(b []byte, g *group, st stateToken, from int, budget *int) ([]byte, int) {
	b = append(b, `{"id":`...)
	b = appendString(b, g.id)
	if g.state != live {
		return append(b, `,"@removed":{"reason":"deleted"}}`...), -1
	}
	fresh := st.A == 0 || st.inWindow(g.created)
	for i, p := range groupProps {
		if st.S&(1<<i) == 0 {
			continue
		}
		if v := g.vals[i]; v != "" {
			b = appendField(b, p.name, p.kind, v)
		} else if !fresh && st.inWindow(g.seqOf(i)) {
			b = appendField(b, p.name, p.kind, "")
		}
	}
	resume := -1
	if st.N {
		wrote := 0
		for k := from; k < len(g.order); k++ {
			id := g.order[k]
			l := g.members[id]
			in, removed := linkInRound(l, st, fresh)
			if !in {
				continue
			}
			if *budget <= 0 {
				resume = k
				break
			}
			if wrote == 0 {
				b = append(b, `,"members@delta":[`...)
			} else {
				b = append(b, ',')
			}
			b = appendLink(b, id, l.isGroup, removed)
			wrote++
			*budget--
		}
		if wrote > 0 {
			b = append(b, ']')
		}
	}
	return append(b, '}'), resume
}
