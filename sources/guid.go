package sources

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// GUIDString is the canonical string of a Microsoft GUID in its binary
// form (AD's objectGUID): the first three fields are stored
// little-endian, so the bytes are not in the order the string shows them.
func GUIDString(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("a GUID has 16 bytes, not %d", len(b))
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]), binary.LittleEndian.Uint16(b[6:8]),
		b[8:10], b[10:16]), nil
}

// canonicalGUID is the mapping filter guid: whatever form a directory
// shows a GUID in, its canonical lower-case string, so that AD's
// objectGUID and Entra's onPremisesImmutableId (base64 of the same 16
// bytes) compare equal. It takes the canonical form (any case, with or
// without braces or dashes), base64 of the binary form (standard or URL
// alphabet, padded or not) and the 16 raw bytes; anything else is ""
// (a value that is no GUID links nothing).
func canonicalGUID(v string) string {
	v = strings.TrimSpace(v)
	plain := strings.ToLower(strings.Trim(v, "{}"))
	if len(plain) == 36 && plain[8] == '-' && plain[13] == '-' && plain[18] == '-' && plain[23] == '-' {
		plain = strings.ReplaceAll(plain, "-", "")
	}
	if len(plain) == 32 {
		if b, err := hex.DecodeString(plain); err == nil {
			return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		}
	}
	if len(v) == 16 {
		if s, err := GUIDString([]byte(v)); err == nil {
			return s
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == 16 {
			s, _ := GUIDString(b)
			return s
		}
	}
	return ""
}
