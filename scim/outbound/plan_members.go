package outbound

import "slices"

// memberDiff is how a group's membership in the target must change:
// local ids to add and to remove.
type memberDiff struct {
	add, remove []string
}

func (d memberDiff) empty() bool { return len(d.add) == 0 && len(d.remove) == 0 }

// diffMembers compares the members the view holds with those last
// pushed; both are local ids. The result is sorted, so runs are
// repeatable.
func diffMembers(want, pushed []string) memberDiff {
	have := make(map[string]bool, len(pushed))
	for _, id := range pushed {
		have[id] = true
	}
	wanted := make(map[string]bool, len(want))
	var d memberDiff
	for _, id := range want {
		if wanted[id] {
			continue
		}
		wanted[id] = true
		if !have[id] {
			d.add = append(d.add, id)
		}
	}
	for id := range have {
		if !wanted[id] {
			d.remove = append(d.remove, id)
		}
	}
	slices.Sort(d.add)
	slices.Sort(d.remove)
	return d
}

// memberBatch is one membership PATCH: the local ids it adds or removes
// (one of them) and its operations.
type memberBatch struct {
	add, remove []string
	ops         []PatchOp
}

// memberBatches splits d into PATCHes of at most max member changes each
// (0: no bound), additions first. targetIDs maps local ids to the
// target's; the caller passes only ids it has.
func memberBatches(d memberDiff, max int, targetIDs map[string]string) []memberBatch {
	var out []memberBatch
	for _, chunk := range chunks(d.add, max) {
		values := make([]any, len(chunk))
		for i, id := range chunk {
			values[i] = map[string]any{"value": targetIDs[id]}
		}
		out = append(out, memberBatch{add: chunk, ops: []PatchOp{{Op: "add", Path: "members", Value: values}}})
	}
	for _, chunk := range chunks(d.remove, max) {
		// RFC 7644 §3.5.2.2: a remove names each member by a value filter;
		// one per operation, since not every target takes "or" there.
		ops := make([]PatchOp, len(chunk))
		for i, id := range chunk {
			ops[i] = PatchOp{Op: "remove", Path: `members[value eq "` + escapeFilterString(targetIDs[id]) + `"]`}
		}
		out = append(out, memberBatch{remove: chunk, ops: ops})
	}
	return out
}

func chunks(ids []string, max int) [][]string {
	if len(ids) == 0 {
		return nil
	}
	if max <= 0 {
		return [][]string{ids}
	}
	var out [][]string
	for len(ids) > max {
		out = append(out, ids[:max])
		ids = ids[max:]
	}
	return append(out, ids)
}

// escapeFilterString escapes a value for a SCIM filter's quoted string
// (RFC 7644 §3.4.2.2 strings are JSON strings).
func escapeFilterString(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
