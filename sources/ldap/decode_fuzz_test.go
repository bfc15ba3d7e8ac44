package ldap

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeValue feeds one attribute value, as raw bytes and as text, to
// every decoder of directory values: none may panic, each either answers
// something that reads back to the same input or says what is wrong.
func FuzzDecodeValue(f *testing.F) {
	for _, seed := range []string{
		"\x42\xb3\x48\xba\xd7\x1f\x6a\x43\xbd\x26\xfe\x5f\xbf\x30\xde\xe0",                                                 // objectGUID
		"\x01\x05\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\xe9\x03\x00\x00", // objectSid
		"\x01\xff\x00", "",
		"20261125122610.0Z", "20261125122610Z", "20261125122610.123456Z", "20261325122610.0Z", "20261125122610.5e3Z",
		"133761234567890000", "9223372036854775807", "0", "-1", " 512 ", "514", "66050", "x",
		"<GUID=ba48b342-1fd7-436a-bd26-fe5fbf30dee0>;<SID=S-1-5-21-1>;CN=x,DC=y", "<GUID=", "member;range=0-*", "member;range=5-1",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := string(b)
		if g, err := decodeGUID(b); err == nil {
			if !validGUID(g) || len(b) != 16 {
				t.Errorf("decodeGUID(%x) = %q", b, g)
			}
		} else if !strings.Contains(err.Error(), "objectGUID") {
			t.Errorf("decodeGUID error does not name the attribute: %v", err)
		}
		if sid, err := decodeSID(b); err == nil {
			if !strings.HasPrefix(sid, "S-") || strings.Count(sid, "-") != 2+int(b[1]) {
				t.Errorf("decodeSID(%x) = %q", b, sid)
			}
		} else if !strings.Contains(err.Error(), "objectSid") {
			t.Errorf("decodeSID error does not name the attribute: %v", err)
		}
		if on, err := disabled(s); err == nil && s != "" {
			v, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if perr != nil || on != (v&uacAccountDisable != 0) {
				t.Errorf("disabled(%q) = %v", s, on)
			}
		} else if err != nil && !strings.Contains(err.Error(), "userAccountControl") {
			t.Errorf("disabled error does not name the attribute: %v", err)
		}
		if ft, never, err := parseFileTime(s); err == nil && !never {
			v, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			back := (ft.Unix()+fileTimeToUnix)*10_000_000 + int64(ft.Nanosecond()/100)
			if back != v {
				t.Errorf("parseFileTime(%q) = %v, which reads back as %d", s, ft, back)
			}
		}
		_, _ = expired(s, time.Unix(0, 0))
		if gt, err := parseGeneralizedTime(s); err == nil {
			main := strings.TrimSpace(s)[:14]
			if gt.Format("20060102150405") != main || gt.Location() != time.UTC {
				t.Errorf("parseGeneralizedTime(%q) = %v", s, gt)
			}
		} else if !strings.Contains(err.Error(), "GeneralizedTime") {
			t.Errorf("parseGeneralizedTime error is unclear: %v", err)
		}
		if _, r, hasRange, ok := splitAttr(s); hasRange && ok && !r.last && (r.high < r.low || r.low < 0) {
			t.Errorf("splitAttr(%q) range %+v", s, r)
		}
		if e, ok := parseExtendedDN(s); ok && !validGUID(e.GUID) {
			t.Errorf("parseExtendedDN(%q) = %+v", s, e)
		}
	})
}
