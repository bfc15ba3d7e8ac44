package scim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	scimerr "github.com/elimity-com/scim/errors"

	"github.com/scimgate/scimgate/storage"
)

// Cursor pagination (RFC 9865). A cursor is a keyset: the place of a row
// in the query's order (its sort value and creation sequence), so a walk
// neither skips nor repeats rows when others are inserted or deleted
// between pages, and the server keeps no state per walk.
//
// Encoding, then base64url without padding (only RFC 3986 unreserved
// characters):
//
//	version  1 byte (cursorVersion)
//	flags    1 byte: backward, has position, key kind (2 bits)
//	issued   uvarint, unix seconds
//	seq      varint       (with a position)
//	key      by kind: none; uvarint length + string bytes; 1 byte bool; varint int64
//	check    8 bytes: SHA-256 of the above and the query's fingerprint
//
// The check makes an altered cursor, or one used with another filter or
// sort, an invalidCursor error. It is not a secret: a cursor forged with a
// matching check only positions its holder somewhere in a list it may
// read anyway.

// Scim types of RFC 9865 pagination errors.
const (
	scimTypeInvalidCursor scimerr.ScimType = "invalidCursor"
	scimTypeExpiredCursor scimerr.ScimType = "expiredCursor"
	scimTypeInvalidCount  scimerr.ScimType = "invalidCount"
)

const cursorVersion = 1

const (
	flagBackward = 1 << 0
	flagPosition = 1 << 1
	keyShift     = 2 // key kind in bits 2-3
)

const (
	keyNone = iota
	keyString
	keyBool
	keyInt
)

// maxCursorLen bounds what is decoded; a real cursor is well under it even
// with a long sort value.
const maxCursorLen = 2048

// cursor is where a page starts: after Pos reading forwards, or before Pos
// reading backwards. A forward cursor without Pos reads from the start.
type cursor struct {
	Backward bool
	Pos      *storage.Keyset
	Issued   time.Time
}

// fingerprint identifies the query a cursor belongs to: the resource type,
// the filter and the order. count and attributes may change between pages.
func fingerprint(resource string, p listParams) []byte {
	desc := strings.EqualFold(p.sortOrder, "descending")
	return []byte(fmt.Sprintf("%s\x00%s\x00%s\x00%t", resource, strings.TrimSpace(p.filter), strings.ToLower(strings.TrimSpace(p.sortBy)), desc))
}

func cursorCheck(payload, fp []byte) []byte {
	h := sha256.New()
	h.Write([]byte("scimgate cursor\x00"))
	h.Write(payload)
	h.Write([]byte{0})
	h.Write(fp)
	return h.Sum(nil)[:8]
}

// encode renders c for the query with fingerprint fp.
func (c cursor) encode(fp []byte) (string, error) {
	b := []byte{cursorVersion, 0}
	if c.Backward {
		b[1] |= flagBackward
	}
	b = binary.AppendUvarint(b, uint64(max(c.Issued.Unix(), 0)))
	if c.Pos != nil {
		b[1] |= flagPosition
		b = binary.AppendVarint(b, c.Pos.Seq)
		switch k := c.Pos.Key.(type) {
		case nil:
		case string:
			b[1] |= keyString << keyShift
			b = binary.AppendUvarint(b, uint64(len(k)))
			b = append(b, k...)
		case bool:
			b[1] |= keyBool << keyShift
			if k {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		case int64:
			b[1] |= keyInt << keyShift
			b = binary.AppendVarint(b, k)
		default:
			return "", fmt.Errorf("scim: cursor: unexpected sort value %T", k)
		}
	}
	b = append(b, cursorCheck(b, fp)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

var errBadCursor = errors.New("malformed")

// decodeCursor parses a cursor for the query with fingerprint fp. Errors
// are SCIM errors: invalidCursor for anything that is not a cursor of this
// query, expiredCursor for one older than timeout.
func decodeCursor(s string, fp []byte, now time.Time, timeout time.Duration) (cursor, error) {
	invalid := Error(http.StatusBadRequest, scimTypeInvalidCursor,
		"the cursor is not valid for this query: send an empty cursor for the first page, then each response's nextCursor or previousCursor "+
			"with the same filter, sortBy and sortOrder")
	if len(s) > maxCursorLen {
		return cursor{}, invalid
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2+1+8 || b[0] != cursorVersion {
		return cursor{}, invalid
	}
	payload, check := b[:len(b)-8], b[len(b)-8:]
	if !bytes.Equal(check, cursorCheck(payload, fp)) {
		return cursor{}, invalid
	}
	c, err := parseCursor(payload)
	if err != nil {
		return cursor{}, invalid
	}
	if age := now.Sub(c.Issued); age > timeout {
		return cursor{}, Error(http.StatusBadRequest, scimTypeExpiredCursor, fmt.Sprintf(
			"the cursor expired: request the next page within %d seconds of the previous one (cursorTimeout), or start again with an empty cursor",
			int(timeout.Seconds())))
	}
	return c, nil
}

// parseCursor reads a payload whose check has passed.
func parseCursor(b []byte) (cursor, error) {
	flags := b[1]
	r := bytes.NewReader(b[2:])
	issued, err := binary.ReadUvarint(r)
	if err != nil || issued > 1<<40 {
		return cursor{}, errBadCursor
	}
	c := cursor{Backward: flags&flagBackward != 0, Issued: time.Unix(int64(issued), 0)}
	if flags&flagPosition != 0 {
		pos := &storage.Keyset{}
		if pos.Seq, err = binary.ReadVarint(r); err != nil {
			return cursor{}, errBadCursor
		}
		switch flags >> keyShift & 3 {
		case keyNone:
		case keyString:
			n, err := binary.ReadUvarint(r)
			if err != nil || n > uint64(r.Len()) {
				return cursor{}, errBadCursor
			}
			k := make([]byte, n)
			r.Read(k)
			pos.Key = string(k)
		case keyBool:
			v, err := r.ReadByte()
			if err != nil || v > 1 {
				return cursor{}, errBadCursor
			}
			pos.Key = v == 1
		case keyInt:
			if pos.Key, err = binary.ReadVarint(r); err != nil {
				return cursor{}, errBadCursor
			}
		}
		c.Pos = pos
	} else if flags>>keyShift != 0 || c.Backward {
		return cursor{}, errBadCursor // only forward cursors start at the start
	}
	if flags&^(flagBackward|flagPosition|3<<keyShift) != 0 || r.Len() != 0 {
		return cursor{}, errBadCursor
	}
	return c, nil
}

// pageCursors returns the nextCursor and previousCursor of a page read
// with from ("" for either when there is none). A page read forwards has
// a next page when the store found more rows, and a previous one unless
// it is the first; a page read backwards the other way round.
func pageCursors(from cursor, b storage.PageBounds, n int, now time.Time) (next, prev cursor, hasNext, hasPrev bool) {
	first, last := b.First, b.Last
	if !from.Backward {
		if b.More {
			next, hasNext = cursor{Pos: &last}, true
		}
		// An empty page past the end has no row to go back from; the
		// previous cursor is optional, so it is left out.
		if from.Pos != nil && n > 0 {
			prev, hasPrev = cursor{Backward: true, Pos: &first}, true
		}
	} else {
		if b.More {
			prev, hasPrev = cursor{Backward: true, Pos: &first}, true
		}
		switch {
		case n > 0:
			next, hasNext = cursor{Pos: &last}, true
		case from.Pos != nil:
			next, hasNext = cursor{}, true // nothing before: start over
		}
	}
	next.Issued, prev.Issued = now, now
	return next, prev, hasNext, hasPrev
}
