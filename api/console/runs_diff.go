package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// A change log entry's before and after are JSON snapshots of the object
// (the shape storage keeps it in). The run page shows them attribute by
// attribute, side by side, each row saying in words whether it changed.

// attrDiff is the attribute-by-attribute comparison of two snapshots.
type attrDiff struct {
	Rows []attrRow
	// Changed counts the rows that differ.
	Changed int
	// RawBefore and RawAfter are the snapshots as sent, for what is not a
	// JSON object (shown as it is).
	RawBefore, RawAfter string
}

// attrRow is one attribute: its path ("name.givenName", "emails[0].value",
// "urn:...:User:department") and its value on each side ("" when absent).
type attrRow struct {
	Path          string
	Before, After string
	InBefore      bool
	InAfter       bool
}

// Change says in words how the attribute changed: "added", "removed",
// "changed", or "" for the same value.
func (r attrRow) Change() string {
	switch {
	case r.InAfter && !r.InBefore:
		return "added"
	case r.InBefore && !r.InAfter:
		return "removed"
	case r.Before != r.After:
		return "changed"
	}
	return ""
}

// diffSnapshots compares two snapshots; nil when there is neither.
func diffSnapshots(before, after json.RawMessage) *attrDiff {
	if len(before) == 0 && len(after) == 0 {
		return nil
	}
	b, errB := flatten(before)
	a, errA := flatten(after)
	if errB != nil || errA != nil {
		return &attrDiff{RawBefore: indent(before), RawAfter: indent(after)}
	}
	// Rows keep the snapshots' own order (before's, then what only after
	// has), which is the resource's declared attribute order.
	d := &attrDiff{}
	index := map[string]int{}
	for _, kv := range b {
		index[kv.path] = len(d.Rows)
		d.Rows = append(d.Rows, attrRow{Path: kv.path, Before: kv.value, InBefore: true})
	}
	for _, kv := range a {
		i, ok := index[kv.path]
		if !ok {
			i = len(d.Rows)
			d.Rows = append(d.Rows, attrRow{Path: kv.path})
		}
		d.Rows[i].After, d.Rows[i].InAfter = kv.value, true
	}
	for _, r := range d.Rows {
		if r.Change() != "" {
			d.Changed++
		}
	}
	return d
}

type pathValue struct{ path, value string }

var errNotObject = errors.New("not a JSON object")

// flatten lists a JSON object's leaves in document order; an empty
// snapshot has none.
func flatten(raw json.RawMessage) ([]pathValue, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, errNotObject
	}
	var out []pathValue
	if err := flattenObject(dec, "", ".", &out); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errNotObject
	}
	return out, nil
}

// flattenObject reads an object's members after its '{', naming each
// prefix, sep, key.
func flattenObject(dec *json.Decoder, prefix, sep string, out *[]pathValue) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return errNotObject
		}
		path := key
		if prefix != "" {
			path = prefix + sep + key
		}
		if err := flattenValue(dec, path, prefix == "", out); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// flattenValue reads one value at path; top says it is a member of the
// snapshot itself.
func flattenValue(dec *json.Decoder, path string, top bool, out *[]pathValue) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			// SCIM writes an extension schema's attributes after its URN
			// with a colon, sub-attributes with a dot.
			sep := "."
			if top && strings.HasPrefix(path, "urn:") {
				sep = ":"
			}
			return flattenObject(dec, path, sep, out)
		case '[':
			for i := 0; dec.More(); i++ {
				if err := flattenValue(dec, path+"["+strconv.Itoa(i)+"]", false, out); err != nil {
					return err
				}
			}
			_, err := dec.Token() // ']'
			return err
		}
		return errNotObject
	case string:
		*out = append(*out, pathValue{path, v})
	case nil:
		*out = append(*out, pathValue{path, "null"})
	default:
		*out = append(*out, pathValue{path, fmt.Sprint(v)})
	}
	return nil
}

// indent pretty-prints JSON, or returns it as it is when it is not JSON.
func indent(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}
