package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// timeLayout renders meta timestamps with the milliseconds the store keeps,
// so a client that filters on meta.lastModified gt "<a value it saw>"
// neither misses nor repeats changes made within the same second.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

var enterpriseKey = []byte(`"` + storage.EnterpriseSchema + `":`)

// appendString appends s as a JSON string.
func appendString(b *bytes.Buffer, s string) { appendStrings(b, s) }

// appendStrings appends the concatenation of parts as one JSON string.
// Ids, URLs and most names need no escaping and are copied as they are;
// anything else goes through encoding/json, which escapes exactly as
// before. It runs several times for every resource of every list.
func appendStrings(b *bytes.Buffer, parts ...string) {
	for _, p := range parts {
		if !plainJSON(p) {
			enc, _ := json.Marshal(strings.Join(parts, ""))
			b.Write(enc)
			return
		}
	}
	b.WriteByte('"')
	for _, p := range parts {
		b.WriteString(p)
	}
	b.WriteByte('"')
}

// plainJSON reports whether s is printable ASCII that encoding/json would
// write unchanged (it escapes <, > and & for HTML).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// bufferPool recycles response buffers; a 100-user page is ~70 KB.
var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps the rare huge response (a group with 100,000
// members) from pinning its buffer.
const maxPooledBuffer = 4 << 20

func getBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		b.Reset()
		bufferPool.Put(b)
	}
}

// writeBody writes a complete JSON body with its length, so the server
// need not chunk it.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// appendMeta writes the meta attribute; location is given in parts (base,
// path, id) so that it need not be concatenated first.
func appendMeta(b *bytes.Buffer, resourceType string, m storage.Meta, location ...string) {
	b.WriteString(`"meta":{"resourceType":"`)
	b.WriteString(resourceType)
	b.WriteString(`","created":"`)
	appendTime(b, m.Created)
	b.WriteString(`","lastModified":"`)
	appendTime(b, m.LastModified)
	b.WriteString(`","location":`)
	appendStrings(b, location...)
	b.WriteString(`,"version":"W/\"`)
	b.WriteString(strconv.FormatInt(m.Version, 10))
	b.WriteString(`\""}`)
}

// appendUserDoc renders a stored user without decoding it: the document
// already is the resource's attributes in SCIM form.
func appendUserDoc(b *bytes.Buffer, d storage.UserDoc, base string) {
	b.WriteString(`{"schemas":["` + userSchema + `"`)
	if bytes.Contains(d.JSON, enterpriseKey) {
		b.WriteString(`,"` + storage.EnterpriseSchema + `"`)
	}
	b.WriteString(`],"id":`)
	appendString(b, d.ID)
	inner := bytes.TrimSpace(d.JSON)
	if len(inner) > 2 {
		b.WriteByte(',')
		b.Write(inner[1 : len(inner)-1])
	}
	b.WriteByte(',')
	appendMeta(b, "User", d.Meta, base, "/Users/", d.ID)
	b.WriteByte('}')
}

func userDoc(u storage.User) (storage.UserDoc, error) {
	doc, err := json.Marshal(u)
	if err != nil {
		return storage.UserDoc{}, err
	}
	return storage.UserDoc{ID: u.ID, Owner: u.Owner, Meta: u.Meta, JSON: doc}, nil
}

// appendGroup renders a group; members are written only when withMembers.
func appendGroup(b *bytes.Buffer, g storage.Group, base string, withMembers bool) {
	b.WriteString(`{"schemas":["` + groupSchema + `"],"id":`)
	appendString(b, g.ID)
	if g.ExternalID != "" {
		b.WriteString(`,"externalId":`)
		appendString(b, g.ExternalID)
	}
	b.WriteString(`,"displayName":`)
	appendString(b, g.DisplayName)
	if withMembers {
		// A group of 100,000 members renders to about 15 MB; sizing the
		// buffer once saves growing (and copying) it twenty times.
		size := 0
		for _, m := range g.Members {
			size += memberJSONOverhead + len(base) + 2*len(m.Value) + 2*len(m.Type) + len(m.Display)
		}
		b.Grow(size + 512)
		b.WriteString(`,"members":[`)
		for i, m := range g.Members {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"value":`)
			appendString(b, m.Value)
			b.WriteString(`,"$ref":`)
			appendStrings(b, base, "/", m.Type, "s/", m.Value)
			b.WriteString(`,"type":"` + m.Type + `"`)
			if m.Display != "" {
				b.WriteString(`,"display":`)
				appendString(b, m.Display)
			}
			b.WriteByte('}')
		}
		b.WriteByte(']')
	}
	b.WriteByte(',')
	appendMeta(b, "Group", g.Meta, base, "/Groups/", g.ID)
	b.WriteByte('}')
}

// memberJSONOverhead is the fixed text of one rendered member: quotes,
// keys, separators and the "s/" of its $ref (escapes aside).
const memberJSONOverhead = len(`{"value":"","$ref":"/s/","type":"","display":""},`)

// writeResource answers with one rendered resource and its ETag; a 201
// also carries the resource's location.
func writeResource(w http.ResponseWriter, status int, version int64, location string, body []byte) {
	h := w.Header()
	h.Set("ETag", etag(version))
	if status == http.StatusCreated {
		h.Set("Location", location)
	}
	h.Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(body)
}

// baseURL returns the absolute URL of the SCIM root for this request.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL + Prefix
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host + Prefix
}

// appendTime writes t in timeLayout, UTC. It is on the path of every
// resource in every list, where time.Format showed up in profiles.
func appendTime(b *bytes.Buffer, t time.Time) {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	var buf [24]byte
	put := func(i, v, width int) {
		for j := width - 1; j >= 0; j-- {
			buf[i+j] = byte('0' + v%10)
			v /= 10
		}
	}
	if year < 0 || year > 9999 {
		b.WriteString(t.Format(timeLayout))
		return
	}
	put(0, year, 4)
	buf[4] = '-'
	put(5, int(month), 2)
	buf[7] = '-'
	put(8, day, 2)
	buf[10] = 'T'
	put(11, hour, 2)
	buf[13] = ':'
	put(14, minute, 2)
	buf[16] = ':'
	put(17, sec, 2)
	buf[19] = '.'
	put(20, t.Nanosecond()/1e6, 3)
	buf[23] = 'Z'
	b.Write(buf[:])
}
