package outbound

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// A push object's hash (storage.PushObject.Hash) is one short hash per
// leaf of the body last pushed, so that equal strings mean an unchanged
// object and, when they differ, the leaves that changed are known
// without reading the target: that is what makes an update the smallest
// PATCH. Leaves are the paths a PATCH can name: top-level attributes and
// the sub-attributes of complex single-valued ones ("name.givenName",
// the enterprise extension's URN + ":department"). Multi-valued
// attributes are leaves whole, as RFC 7644 §3.5.2.3 replaces them.

const hashVersion = "h1"

// leaf is one PATCH-able path of a body and its value.
type leaf struct {
	path  string
	value any
}

// leaves lists b's leaves by path, sorted; schemas is none.
func leaves(b body) []leaf {
	var out []leaf
	for _, name := range sortedNames(b) {
		v := b[name]
		if name == "schemas" {
			continue
		}
		obj, complexAttr := v.(map[string]any)
		if !complexAttr {
			out = append(out, leaf{path: name, value: v})
			continue
		}
		sep := "."
		if strings.HasPrefix(strings.ToLower(name), "urn:") {
			sep = ":"
		}
		for _, sub := range sortedNames(obj) {
			out = append(out, leaf{path: name + sep + sub, value: obj[sub]})
		}
	}
	return out
}

// hashBody is b's hash as PushObject.Hash keeps it.
func hashBody(b body) (string, error) {
	var s strings.Builder
	s.WriteString(hashVersion)
	for _, l := range leaves(b) {
		h, err := hashValue(l.value)
		if err != nil {
			return "", fmt.Errorf("%s: %w", l.path, err)
		}
		s.WriteString(";" + l.path + "=" + h)
	}
	return s.String(), nil
}

func hashValue(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:6]), nil
}

// parseHash reads a hash back into its leaves; nil for "" or a hash of
// another version, which then counts as unknown.
func parseHash(h string) map[string]string {
	parts := strings.Split(h, ";")
	if parts[0] != hashVersion {
		return nil
	}
	out := make(map[string]string, len(parts)-1)
	for _, p := range parts[1:] {
		path, sum, ok := strings.Cut(p, "=")
		if ok {
			out[path] = sum
		}
	}
	return out
}

// diff is what changed between what the target has and a new body.
type diff struct {
	changed []leaf   // to replace (or add)
	removed []string // paths to remove
}

func (d diff) empty() bool { return len(d.changed) == 0 && len(d.removed) == 0 }

// diffHash compares b with the hash of what was last pushed. An unknown
// old hash makes every leaf changed and none removed.
func diffHash(old string, b body) (diff, error) {
	before := parseHash(old)
	var d diff
	seen := map[string]bool{}
	for _, l := range leaves(b) {
		seen[l.path] = true
		h, err := hashValue(l.value)
		if err != nil {
			return diff{}, fmt.Errorf("%s: %w", l.path, err)
		}
		if before[l.path] != h {
			d.changed = append(d.changed, l)
		}
	}
	for _, path := range sortedNames(before) {
		if !seen[path] && !keptLeaves[path] {
			d.removed = append(d.removed, path)
		}
	}
	return d, nil
}

// keptLeaves are never removed, even when scimgate stops sending them
// (an allow-list without them): a user without them makes no sense, and
// targets refuse it (AWS IAM Identity Center's PatchUser: "The remove
// patch operation is not supported for userName or active attributes").
var keptLeaves = map[string]bool{"userName": true, "active": true, "externalId": true}

// diffRemote compares b with a target's document (a claimed object, or
// one a full run re-reads). What the target has beyond b is left alone,
// unless scimgate pushed it before (it is in oldHash): what scimgate did
// not send is not scimgate's to remove.
func diffRemote(raw json.RawMessage, b body, oldHash string) (diff, error) {
	remote, err := decodeBody(raw)
	if err != nil {
		return diff{}, fmt.Errorf("the target's document: %w", err)
	}
	have := map[string]string{}
	for _, l := range leaves(remote) {
		if h, err := hashValue(l.value); err == nil {
			have[l.path] = h
		}
	}
	var d diff
	for _, l := range leaves(b) {
		h, err := hashValue(l.value)
		if err != nil {
			return diff{}, fmt.Errorf("%s: %w", l.path, err)
		}
		if have[l.path] != h {
			d.changed = append(d.changed, l)
		}
		delete(have, l.path)
	}
	for _, path := range sortedNames(parseHash(oldHash)) {
		if _, there := have[path]; there && !keptLeaves[path] {
			d.removed = append(d.removed, path)
		}
	}
	return d, nil
}

// patchOps turns d into PATCH operations: one replace per changed leaf,
// or one path-less replace of them all when the target takes that, and
// one remove per removed path.
func patchOps(d diff, caps Capabilities) []PatchOp {
	var ops []PatchOp
	if caps.PathlessReplace && len(d.changed) > 1 {
		value := map[string]any{}
		for _, l := range d.changed {
			setLeaf(value, l)
		}
		ops = append(ops, PatchOp{Op: "replace", Value: value})
	} else {
		for _, l := range d.changed {
			ops = append(ops, PatchOp{Op: "replace", Path: l.path, Value: l.value})
		}
	}
	for _, path := range d.removed {
		ops = append(ops, PatchOp{Op: "remove", Path: path})
	}
	return ops
}

// setLeaf puts l back into a nested object, the shape a path-less
// replace's value has.
func setLeaf(obj map[string]any, l leaf) {
	parent, sub, nested := splitLeaf(l.path)
	if !nested {
		obj[l.path] = l.value
		return
	}
	inner, _ := obj[parent].(map[string]any)
	if inner == nil {
		inner = map[string]any{}
		obj[parent] = inner
	}
	inner[sub] = l.value
}

// splitLeaf splits a leaf's path into its complex parent and
// sub-attribute.
func splitLeaf(path string) (parent, sub string, nested bool) {
	if strings.HasPrefix(strings.ToLower(path), "urn:") {
		i := strings.LastIndexByte(path, ':')
		return path[:i], path[i+1:], true
	}
	parent, sub, nested = strings.Cut(path, ".")
	return parent, sub, nested
}

// changedPaths lists d's paths, for the change log.
func (d diff) paths() []string {
	out := make([]string, 0, len(d.changed)+len(d.removed))
	for _, l := range d.changed {
		out = append(out, l.path)
	}
	out = append(out, d.removed...)
	slices.Sort(out)
	return out
}
