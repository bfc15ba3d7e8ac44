package graphtest

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// tokenLifetime: "For directory objects, the limit is seven days"
// (delta-query-overview, "Token duration").
const tokenLifetime = 7 * 24 * time.Hour

// serveDelta is GET /users/delta and /groups/delta (user-delta,
// group-delta, delta-query-overview). A round starts without a token (or
// with the empty $deltatoken of a 410's Location), follows absolute
// nextLinks carrying $skiptoken, and ends with a deltaLink carrying
// $deltatoken; the next round replays that deltaLink.
func (s *Server) serveDelta(w http.ResponseWriter, r *http.Request, reqID, coll string) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var st stateToken
	tok := q.Get("$skiptoken")
	if tok == "" {
		tok = q.Get("$deltatoken")
	}
	switch {
	case tok == "latest":
		// "sync from now": no data and a deltaLink (delta-query-overview).
		st, qe := s.initialState(q, coll)
		if qe != nil {
			writeQueryError(w, reqID, qe)
			return
		}
		st.D, st.A, st.B = true, 0, s.dir.seq
		s.writePage(w, coll, nil, st, true)
		return
	case tok != "":
		var err error
		if st, err = s.decodeToken(tok); err != nil || st.C != coll {
			graphError(w, reqID, http.StatusBadRequest, "Request_BadRequest", "The state token in the request is not valid.")
			return
		}
		if st.E < s.epoch {
			s.writeStale(w, r, reqID, coll)
			return
		}
		if st.D && s.now().Sub(time.Unix(st.T, 0)) > tokenLifetime {
			graphError(w, reqID, http.StatusBadRequest, "syncStateNotFound", "The sync state generation is not found. The delta token is expired and data must be synchronized again.")
			return
		}
		if st.D { // a new round: changes after the last one
			st = stateToken{C: coll, S: st.S, N: st.N, F: st.F, A: st.B, B: s.dir.seq}
		}
	default:
		var qe *queryError
		if st, qe = s.initialState(q, coll); qe != nil {
			writeQueryError(w, reqID, qe)
			return
		}
		st.B = s.dir.seq
	}
	var body []byte
	var done bool
	if coll == "users" {
		body, st, done = s.userPage(st)
	} else {
		body, st, done = s.groupPage(st)
	}
	s.writePage(w, coll, body, st, done)
}

// initialState reads the query parameters of a round's first request.
// Users and groups take only $select and $filter=id eq; "$expand is not
// supported", "$top is not supported", "$orderby is not supported"
// (delta-query-overview); $expand on users is ignored rather than refused
// [obs: microsoft-graph-docs#6194], $expand=members on groups tracks
// members (delta-query-groups).
func (s *Server) initialState(q url.Values, coll string) (stateToken, *queryError) {
	st := stateToken{C: coll, E: s.epoch}
	if q.Has("$top") || q.Has("$orderby") {
		return st, &queryError{status: http.StatusBadRequest, code: "Request_UnsupportedQuery", message: "Unsupported query: $top and $orderby are not supported by delta."}
	}
	sel, qe := parseSelect(q.Get("$select"), coll, true)
	if qe != nil {
		return st, qe
	}
	if coll == "groups" && strings.EqualFold(strings.TrimSpace(q.Get("$expand")), "members") {
		sel.nav = true
	}
	ids, qe := parseIDFilter(q.Get("$filter"))
	if qe != nil {
		return st, qe
	}
	sort.Strings(ids)
	st.S, st.N, st.F = sel.mask, sel.nav, ids
	return st, nil
}

// writeStale answers a token made stale by InvalidateDeltaTokens.
func (s *Server) writeStale(w http.ResponseWriter, r *http.Request, reqID, coll string) {
	switch s.stale {
	case StaleGone:
		// "410 (gone) and a Location header containing a request URL with
		// an empty $deltaToken (same as the initial query)".
		w.Header().Set("Location", s.URL()+"/v1.0/"+coll+"/delta?$deltatoken=")
		graphError(w, reqID, http.StatusGone, "resyncRequired", "The delta token is no longer valid; restart with a full synchronization.")
	case StaleResync:
		graphError(w, reqID, http.StatusBadRequest, "resyncRequired", "Resync required. The delta token is no longer valid, and the app must reset the sync state.")
	default:
		graphError(w, reqID, http.StatusBadRequest, "syncStateNotFound", "The sync state generation is not found. The delta token is expired and data must be synchronized again.")
	}
}

// writePage writes a delta page: exactly one of @odata.nextLink (absolute,
// on this host, with $skiptoken) and @odata.deltaLink (with $deltatoken)
// (paging; delta-query-overview "State tokens").
func (s *Server) writePage(w http.ResponseWriter, coll string, items []byte, st stateToken, done bool) {
	st.E, st.T = s.epoch, s.now().Unix()
	out := make([]byte, 0, len(items)+512)
	out = append(out, `{"@odata.context":`...)
	out = appendString(out, s.URL()+"/v1.0/$metadata#"+coll)
	if done {
		st.D, st.P, st.G, st.O = true, "", "", 0
		out = append(out, `,"@odata.deltaLink":`...)
		out = appendString(out, s.URL()+"/v1.0/"+coll+"/delta?$deltatoken="+s.encodeToken(st))
	} else {
		out = append(out, `,"@odata.nextLink":`...)
		out = appendString(out, s.URL()+"/v1.0/"+coll+"/delta?$skiptoken="+s.encodeToken(st))
	}
	out = append(out, `,"value":[`...)
	out = append(out, items...)
	out = append(out, "]}"...)
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Write(out)
}

// inWindow reports whether seq is a change of this round.
func (st stateToken) inWindow(seq uint64) bool { return seq > st.A && seq <= st.B }

func (st stateToken) wants(id string) bool {
	if len(st.F) == 0 {
		return true
	}
	_, ok := slices.BinarySearch(st.F, id)
	return ok
}

// userPage renders the next page of users. The initial round (A == 0)
// returns every user that exists, with soft-deleted ones as @removed
// "changed" ("@removed can be returned in the initial delta query
// response"); later rounds return the users with a tracked change: "If a
// change occurs to a property that is not selected, the resource ... does
// not appear" (delta-query-overview).
func (s *Server) userPage(st stateToken) ([]byte, stateToken, bool) {
	ids := s.dir.sortedUsers()
	i := sort.SearchStrings(ids, st.P)
	if i < len(ids) && ids[i] == st.P {
		i++
	}
	var b []byte
	n := 0
	for ; i < len(ids) && n < s.opts.UserPageSize; i++ {
		u := s.dir.users[ids[i]]
		if !st.wants(u.id) || !s.userInRound(u, st) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = s.appendDeltaUser(b, u, st)
		n++
		st.P = u.id
	}
	return b, st, i >= len(ids)
}

func (s *Server) userInRound(u *user, st stateToken) bool {
	if u.created > st.B {
		return false // created after the round began: the next round has it
	}
	if st.A == 0 {
		return u.state != hardDeleted
	}
	if st.inWindow(u.created) || st.inWindow(u.stateSeq) || (st.N && st.inWindow(u.managerSeq)) {
		return true
	}
	if u.propSeq != nil {
		for i := range userProps {
			if st.S&(1<<i) != 0 && st.inWindow(u.propSeq[i]) {
				return true
			}
		}
	}
	return false
}

// appendDeltaUser renders one user of a round. By default a changed user
// carries every selected property: "If the property has not changed, the
// old value is included", "If the property has never been set before it
// will not be included", a property changed to null comes as null
// (user-delta, "Default"). With Prefer: return=minimal only changed
// properties come (not modelled per request: the source does not send
// it). manager@delta comes in the initial round and when the manager
// changed, not with other changes [obs: graph-explorer-v4#4018].
func (s *Server) appendDeltaUser(b []byte, u *user, st stateToken) []byte {
	b = append(b, `{"id":`...)
	if u.garbled {
		b = append(b, '0')
	} else {
		b = appendString(b, u.id)
	}
	switch u.state {
	case softDeleted:
		return append(b, `,"@removed":{"reason":"changed"}}`...)
	case hardDeleted:
		return append(b, `,"@removed":{"reason":"deleted"}}`...)
	}
	fresh := st.A == 0 || st.inWindow(u.created) || st.inWindow(u.stateSeq)
	for i, p := range userProps {
		if st.S&(1<<i) == 0 {
			continue
		}
		if v := u.vals[i]; v != "" {
			b = appendField(b, p.name, p.kind, v)
		} else if !fresh && st.inWindow(u.seqOf(i)) {
			b = appendField(b, p.name, p.kind, "") // set to null in this round
		}
	}
	if st.N {
		switch {
		case fresh && u.manager != "":
			b = append(b, `,"manager@delta":[`...)
			b = appendLink(b, u.manager, false, false)
			b = append(b, ']')
		case !fresh && st.inWindow(u.managerSeq) && u.manager != "":
			b = append(b, `,"manager@delta":[`...)
			b = appendLink(b, u.manager, false, false)
			b = append(b, ']')
		case !fresh && st.inWindow(u.managerSeq) && u.prevManager != "":
			// A removed manager link [unverified shape: as members@delta].
			b = append(b, `,"manager@delta":[`...)
			b = appendLink(b, u.prevManager, false, true)
			b = append(b, ']')
		}
	}
	return append(b, '}')
}
