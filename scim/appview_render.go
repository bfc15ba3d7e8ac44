package scim

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// Rendering a user as an app sees it works on the stored document's bytes,
// as the unscoped list does: the document's members are walked once and
// copied when allowed, so no row is decoded into a map and encoded again.
// Stored documents are encoding/json's output of storage.User; the walk
// still accepts any valid JSON object.

// appendViewUser renders d as the view shows it; scratch is a buffer the
// attributes are gathered in before the schemas (which depend on them) are
// written.
func (v *appView) appendViewUser(b, scratch *bytes.Buffer, d storage.UserDoc, base string) error {
	if v.allow == nil && !d.Departed {
		appendUserDoc(b, d, base)
		return nil
	}
	scratch.Reset()
	hasExt, err := v.appendUserAttrs(scratch, d.JSON, d.Departed)
	if err != nil {
		return fmt.Errorf("scim: render user %s: %w", d.ID, err)
	}
	b.WriteString(`{"schemas":["` + userSchema + `"`)
	if hasExt {
		b.WriteString(`,"` + storage.EnterpriseSchema + `"`)
	}
	b.WriteString(`],"id":`)
	appendString(b, d.ID)
	b.Write(scratch.Bytes())
	b.WriteByte(',')
	appendMeta(b, "User", d.Meta, base, "/Users/", d.ID)
	b.WriteByte('}')
	return nil
}

// appendUserAttrs writes the allowed members of doc, each preceded by a
// comma; a departed user's active is written false, allowed or not.
// hasExt reports that
// enterprise attributes were written.
func (v *appView) appendUserAttrs(b *bytes.Buffer, doc []byte, departed bool) (hasExt bool, err error) {
	err = eachMember(doc, func(rawKey, key, val []byte) error {
		if string(key) == storage.EnterpriseSchema {
			n := b.Len()
			writeKey(b, rawKey)
			written, err := v.appendAllowed(b, val)
			if err != nil {
				return err
			}
			if !written {
				b.Truncate(n)
			}
			hasExt = hasExt || written
			return nil
		}
		entry := v.entry(false, key)
		switch {
		// Before the allow-list: leaving is what every app must learn, so
		// a departed user carries active false even where the app is not
		// shown active otherwise.
		case departed && string(key) == "active":
			b.WriteString(`,"active":false`)
		case entry == nil:
		case entry.whole:
			writeKey(b, rawKey)
			b.Write(val)
		default:
			return appendSubs(b, rawKey, val, entry)
		}
		return nil
	})
	return hasExt, err
}

// entry is the allow-list entry of a top-level attribute of the core
// schema or (ext) the enterprise extension; everything is whole without
// an allow-list.
func (v *appView) entry(ext bool, key []byte) *allowedAttr {
	if v.allow == nil {
		return &wholeAttr
	}
	return v.allow.entryOf(ext, key)
}

var wholeAttr = allowedAttr{whole: true}

// appendAllowed writes the extension object obj with only its allowed
// members; written is false when none was.
func (v *appView) appendAllowed(b *bytes.Buffer, obj []byte) (written bool, err error) {
	start := b.Len()
	err = eachMember(obj, func(rawKey, key, val []byte) error {
		entry := v.entry(true, key)
		switch {
		case entry == nil:
			return nil
		case entry.whole:
			writeKey(b, rawKey)
			b.Write(val)
			return nil
		}
		return appendSubs(b, rawKey, val, entry)
	})
	if err != nil || b.Len() == start {
		return false, err
	}
	// Each member was written after a comma; the first comma opens the
	// object instead.
	b.Bytes()[start] = '{'
	b.WriteByte('}')
	return true, nil
}

// appendSubs writes the attribute rawKey with only the sub-attributes
// that entry allows of its value: an object's members, or each element's
// of an array of objects. Nothing is written when nothing is left.
func appendSubs(b *bytes.Buffer, rawKey, val []byte, entry *allowedAttr) error {
	n := b.Len()
	writeKey(b, rawKey)
	switch firstByte(val) {
	case '{':
		if !appendSubObject(b, val, entry) {
			b.Truncate(n)
		}
		return nil
	case '[':
		b.WriteByte('[')
		wrote := false
		err := eachElement(val, func(el []byte) error {
			if firstByte(el) != '{' {
				return nil
			}
			m := b.Len()
			if wrote {
				b.WriteByte(',')
			}
			if appendSubObject(b, el, entry) {
				wrote = true
			} else {
				b.Truncate(m)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !wrote {
			b.Truncate(n)
			return nil
		}
		b.WriteByte(']')
		return nil
	}
	// A simple value has no sub-attributes to show.
	b.Truncate(n)
	return nil
}

// appendSubObject writes obj with only the members entry allows and
// reports whether any was.
func appendSubObject(b *bytes.Buffer, obj []byte, entry *allowedAttr) bool {
	n := b.Len()
	b.WriteByte('{')
	first := true
	_ = eachMember(obj, func(rawKey, key, val []byte) error {
		if !entry.allowsSub(key) {
			return nil
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(rawKey)
		b.WriteByte(':')
		b.Write(val)
		return nil
	})
	if first {
		b.Truncate(n)
		return false
	}
	b.WriteByte('}')
	return true
}

// writeKey writes a comma and the quoted key as the document has it.
func writeKey(b *bytes.Buffer, rawKey []byte) {
	b.WriteByte(',')
	b.Write(rawKey)
	b.WriteByte(':')
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// eachMember calls fn with every member of the JSON object obj: the key as
// written (quoted, to copy), decoded, and the value as raw bytes. Nothing
// is allocated unless a key has escapes.
func eachMember(obj []byte, fn func(rawKey, key, val []byte) error) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return fmt.Errorf("not a JSON object")
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return fmt.Errorf("bad JSON object key at %d", i)
		}
		end, err := skipValue(obj, i)
		if err != nil {
			return err
		}
		rawKey := obj[i:end]
		key, err := decodeKey(rawKey)
		if err != nil {
			return err
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return fmt.Errorf("bad JSON object at %d", i)
		}
		start := skipSpace(obj, i+1)
		if end, err = skipValue(obj, start); err != nil {
			return err
		}
		if err := fn(rawKey, key, obj[start:end]); err != nil {
			return err
		}
		i = skipSpace(obj, end)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
			continue
		}
		if i < len(obj) && obj[i] == '}' {
			return nil
		}
		return fmt.Errorf("bad JSON object at %d", i)
	}
}

// eachElement calls fn with every element of the JSON array arr.
func eachElement(arr []byte, fn func(val []byte) error) error {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return fmt.Errorf("not a JSON array")
	}
	i = skipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return nil
	}
	for {
		end, err := skipValue(arr, i)
		if err != nil {
			return err
		}
		if err := fn(arr[i:end]); err != nil {
			return err
		}
		i = skipSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipSpace(arr, i+1)
			continue
		}
		if i < len(arr) && arr[i] == ']' {
			return nil
		}
		return fmt.Errorf("bad JSON array at %d", i)
	}
}

func decodeKey(raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return []byte(s), err
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, fmt.Errorf("unexpected end of JSON")
	}
	switch b[i] {
	case '"':
		// The closing quote is the first one not escaped, that is not
		// preceded by an odd run of backslashes.
		for j := i + 1; ; {
			k := bytes.IndexByte(b[j:], '"')
			if k < 0 {
				return len(b), fmt.Errorf("unterminated JSON string")
			}
			q := j + k
			n := 0
			for p := q - 1; p > i && b[p] == '\\'; p-- {
				n++
			}
			if n%2 == 0 {
				return q + 1, nil
			}
			j = q + 1
		}
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipValue(b, j)
				if err != nil {
					return end, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return len(b), fmt.Errorf("unterminated JSON value")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	if j == i {
		return j, fmt.Errorf("bad JSON value at %d", i)
	}
	return j, nil
}
