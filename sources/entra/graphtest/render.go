package graphtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// appendString appends s as a JSON string (the emulator writes JSON by
// hand: a 100,000-user round is a lot of reflection otherwise).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return append(b, '"')
}

// appendValue renders a stored value; "" renders as null (or [] for a
// collection, as Graph does).
func appendValue(b []byte, kind propKind, v string) []byte {
	switch kind {
	case kBool:
		if v == "" {
			return append(b, "null"...)
		}
		return append(b, v...)
	case kStrings:
		b = append(b, '[')
		if v != "" {
			for i, part := range strings.Split(v, sep) {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, part)
			}
		}
		return append(b, ']')
	case kExtAttrs:
		if v == "" {
			return append(b, "null"...)
		}
		b = append(b, '{')
		for i, part := range strings.Split(v, sep) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `"extensionAttribute`...)
			b = appendInt(b, i+1)
			b = append(b, `":`...)
			if part == "" {
				b = append(b, "null"...)
			} else {
				b = appendString(b, part)
			}
		}
		return append(b, '}')
	}
	if v == "" {
		return append(b, "null"...)
	}
	return appendString(b, v)
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// appendField appends ,"name":value.
func appendField(b []byte, name string, kind propKind, v string) []byte {
	b = append(b, ',')
	b = appendString(b, name)
	b = append(b, ':')
	return appendValue(b, kind, v)
}

// appendLink renders one entry of a members@delta or manager@delta
// annotation.
func appendLink(b []byte, id string, isGroup, removed bool) []byte {
	if isGroup {
		b = append(b, `{"@odata.type":"#microsoft.graph.group","id":`...)
	} else {
		b = append(b, `{"@odata.type":"#microsoft.graph.user","id":`...)
	}
	b = appendString(b, id)
	if removed {
		// For links "deleted" means the link was deleted, even though
		// the member still exists (delta-query-groups example).
		b = append(b, `,"@removed":{"reason":"deleted"}`...)
	}
	return append(b, '}')
}

// stateToken is what the emulator's skip and delta tokens encode. Tokens
// are opaque to clients (delta-query-overview, "State tokens"): the
// payload is MACed so an edited token is refused.
type stateToken struct {
	C string   `json:"c"`           // users | groups | list
	S uint64   `json:"s"`           // selected properties (bit per index)
	N bool     `json:"n,omitempty"` // manager / members tracked or expanded
	F []string `json:"f,omitempty"` // $filter=id eq ... ids
	A uint64   `json:"a,omitempty"` // round start: changes after A
	B uint64   `json:"b,omitempty"` // round end: changes up to B
	P string   `json:"p,omitempty"` // last id served whole
	G string   `json:"g,omitempty"` // group split over pages
	O int      `json:"o,omitempty"` // position in G's member order
	E int      `json:"e,omitempty"` // token epoch (InvalidateDeltaTokens)
	T int64    `json:"t,omitempty"` // issued, unix seconds
	D bool     `json:"d,omitempty"` // a delta token (vs skip token)
	K int      `json:"k,omitempty"` // list page size ($top)
}

func (s *Server) encodeToken(t stateToken) string {
	payload, _ := json.Marshal(t)
	mac := hmac.New(sha256.New, s.macKey)
	mac.Write(payload)
	return base64.RawURLEncoding.EncodeToString(append(mac.Sum(nil)[:9], payload...))
}

var errBadToken = errors.New("bad token")

func (s *Server) decodeToken(tok string) (stateToken, error) {
	var t stateToken
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 10 {
		return t, errBadToken
	}
	mac := hmac.New(sha256.New, s.macKey)
	mac.Write(raw[9:])
	if !hmac.Equal(mac.Sum(nil)[:9], raw[:9]) {
		return t, errBadToken
	}
	if json.Unmarshal(raw[9:], &t) != nil {
		return t, errBadToken
	}
	return t, nil
}
