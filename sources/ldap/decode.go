package ldap

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// decodeGUID turns a raw 16-byte objectGUID into its canonical string.
func decodeGUID(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("objectGUID has %d bytes, not 16", len(b))
	}
	return sources.GUIDString(b)
}

// decodeSID turns a binary objectSid into its S-1-5-21-... form.
func decodeSID(b []byte) (string, error) {
	if len(b) < 8 || len(b) != 8+4*int(b[1]) {
		return "", fmt.Errorf("objectSid of %d bytes is malformed", len(b))
	}
	var auth uint64
	for _, x := range b[2:8] { // 48-bit big-endian identifier authority
		auth = auth<<8 | uint64(x)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "S-%d-%d", b[0], auth)
	for i := 0; i < int(b[1]); i++ {
		fmt.Fprintf(&s, "-%d", binary.LittleEndian.Uint32(b[8+4*i:]))
	}
	return s.String(), nil
}

// userAccountControl bits that matter here.
const uacAccountDisable = 0x2

// disabled reports whether a userAccountControl value has ACCOUNTDISABLE
// set. It is a bit field: comparing the value with 512 is wrong.
func disabled(uac string) (bool, error) {
	if uac == "" {
		return false, nil
	}
	v, err := strconv.ParseInt(strings.TrimSpace(uac), 10, 64)
	if err != nil {
		return false, fmt.Errorf("userAccountControl %q is not a number", uac)
	}
	return v&uacAccountDisable != 0, nil
}

// fileTimeToUnix is the seconds from 1601-01-01 UTC, where FILETIME
// counts from, to 1970-01-01.
const fileTimeToUnix = 11644473600

// parseFileTime reads an AD FILETIME (100 ns ticks since 1601, in
// decimal). never is true for 0 and the maximum int64, which AD uses for
// "never" (accountExpires) and "not set".
func parseFileTime(s string) (t time.Time, never bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%q is not a FILETIME", s)
	}
	if v <= 0 || v == 1<<63-1 {
		return time.Time{}, true, nil
	}
	// Via Unix seconds: 1601 lies beyond time.Duration's range of now.
	secs, rest := v/10_000_000, v%10_000_000
	return time.Unix(secs-fileTimeToUnix, rest*100).UTC(), false, nil
}

// expired reports whether accountExpires lies in the past at now.
func expired(accountExpires string, now time.Time) (bool, error) {
	t, never, err := parseFileTime(accountExpires)
	if err != nil || never {
		return false, err
	}
	return !t.After(now), nil
}

// parseGeneralizedTime reads AD's whenChanged form, 20261125122610.0Z.
func parseGeneralizedTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	main, frac, _ := strings.Cut(strings.TrimSuffix(s, "Z"), ".")
	if !strings.HasSuffix(s, "Z") || len(main) != 14 {
		return time.Time{}, fmt.Errorf("%q is not a UTC GeneralizedTime", s)
	}
	t, err := time.Parse("20060102150405", main)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a UTC GeneralizedTime", s)
	}
	if frac != "" {
		// Digits only: ParseFloat would also take "5e3", 500 seconds.
		var ns int64
		for i, c := range frac {
			if c < '0' || c > '9' {
				return time.Time{}, fmt.Errorf("%q is not a UTC GeneralizedTime: the fraction has a non-digit", s)
			}
			if i < 9 {
				ns = ns*10 + int64(c-'0')
			}
		}
		for i := len(frac); i < 9; i++ {
			ns *= 10
		}
		t = t.Add(time.Duration(ns))
	}
	return t.UTC(), nil
}

// attrRange is the range option of an attribute description such as
// member;range=1500-2999 or member;range=4500-* (last is true).
type attrRange struct {
	low, high int
	last      bool
}

// splitAttr splits an attribute description into its name and, when it
// has one, its range option. ok is false for a malformed range.
func splitAttr(desc string) (name string, r attrRange, hasRange, ok bool) {
	parts := strings.Split(desc, ";")
	name = parts[0]
	for _, opt := range parts[1:] {
		key, val, found := strings.Cut(opt, "=")
		if !found || !strings.EqualFold(key, "range") {
			continue
		}
		lo, hi, found := strings.Cut(val, "-")
		if !found {
			return name, attrRange{}, true, false
		}
		low, err := strconv.Atoi(lo)
		if err != nil || low < 0 {
			return name, attrRange{}, true, false
		}
		if hi == "*" {
			return name, attrRange{low: low, high: -1, last: true}, true, true
		}
		high, err := strconv.Atoi(hi)
		if err != nil || high < low {
			return name, attrRange{}, true, false
		}
		return name, attrRange{low: low, high: high}, true, true
	}
	return name, attrRange{}, false, true
}

// rangeAttr is the attribute description asking for values from low on,
// step at a time.
func rangeAttr(name string, low, step int) string {
	return fmt.Sprintf("%s;range=%d-%d", name, low, low+step-1)
}

// extendedDN is a DN as the extended-DN control returns it:
// <GUID=...>;<SID=...>;CN=... (the SID part only for security principals).
type extendedDN struct {
	GUID string
	SID  string
	DN   string
}

// parseExtendedDN reads the string form (control flag 1). A value without
// the <GUID=...> prefix is returned as a plain DN with ok false.
func parseExtendedDN(s string) (e extendedDN, ok bool) {
	rest := s
	for strings.HasPrefix(rest, "<") {
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return extendedDN{DN: s}, false
		}
		key, val, _ := strings.Cut(rest[1:end], "=")
		switch strings.ToUpper(key) {
		case "GUID":
			e.GUID = strings.ToLower(val)
		case "SID":
			e.SID = val
		}
		rest = strings.TrimPrefix(rest[end+1:], ";")
	}
	e.DN = rest
	if !validGUID(e.GUID) {
		return extendedDN{DN: s}, false
	}
	return e, true
}

// validGUID checks the canonical 8-4-4-4-12 hex form.
func validGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// adBindProblems are the data codes AD puts in a failed bind's
// diagnostic message ("... data 52e, v4563"), in words.
var adBindProblems = map[string]string{
	"525": "the user does not exist",
	"52e": "the password is wrong (or the user does not exist)",
	"530": "the account may not log on at this time",
	"531": "the account may not log on from this workstation",
	"532": "the account's password has expired",
	"533": "the account is disabled",
	"568": "the account is in too many groups (token too large)",
	"701": "the account has expired",
	"773": "the account's password must be changed before it can log on",
	"775": "the account is locked out",
}

// bindProblem finds the AD data code in a diagnostic message.
func bindProblem(diag string) (code, words string) {
	lower := strings.ToLower(diag)
	i := strings.Index(lower, "data ")
	if i < 0 {
		return "", ""
	}
	code = lower[i+5:]
	if end := strings.IndexAny(code, ", "); end >= 0 {
		code = code[:end]
	}
	return code, adBindProblems[code]
}
