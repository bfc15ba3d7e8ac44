package ldap

import (
	"encoding/base64"
	"encoding/binary"
	"testing"
	"time"
)

func TestDecodeGUID(t *testing.T) {
	for _, tc := range []struct {
		name, b64, want, wantErr string
	}{
		// Read from Samba: the extended DN of the same object said
		// <GUID=ba48b342-1fd7-436a-bd26-fe5fbf30dee0>.
		{"samba user", "QrNIutcfakO9Jv5fvzDe4A==", "ba48b342-1fd7-436a-bd26-fe5fbf30dee0", ""},
		{"all zero", "AAAAAAAAAAAAAAAAAAAAAA==", "00000000-0000-0000-0000-000000000000", ""},
		{"too short", "AQID", "", "objectGUID has 3 bytes, not 16"},
		{"empty", "", "", "objectGUID has 0 bytes, not 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := base64.StdEncoding.DecodeString(tc.b64)
			got, err := decodeGUID(raw)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("decodeGUID = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestDecodeSID(t *testing.T) {
	// S-1-5-21-3744340089-2685330373-2998470715-1103
	raw := []byte{1, 5, 0, 0, 0, 0, 0, 5}
	for _, sub := range []uint32{21, 3744340089, 2685330373, 2998470715, 1103} {
		raw = binary.LittleEndian.AppendUint32(raw, sub)
	}
	got, err := decodeSID(raw)
	if err != nil || got != "S-1-5-21-3744340089-2685330373-2998470715-1103" {
		t.Errorf("decodeSID = %q, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {1, 5, 0}, {1, 2, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0}} {
		if _, err := decodeSID(bad); err == nil {
			t.Errorf("decodeSID(%v) accepted a malformed SID", bad)
		}
	}
}

func TestDisabledIsBitTwo(t *testing.T) {
	for _, tc := range []struct {
		uac     string
		want    bool
		wantErr bool
	}{
		{"512", false, false},     // NORMAL_ACCOUNT
		{"514", true, false},      // NORMAL_ACCOUNT|ACCOUNTDISABLE
		{"66048", false, false},   // NORMAL|DONT_EXPIRE_PASSWORD
		{"66050", true, false},    // ... and disabled
		{"2", true, false},        // the bit alone
		{"544", false, false},     // PASSWD_NOTREQD, not disabled
		{"", false, false},        // absent: not disabled
		{" 514 ", true, false},    // stray blanks
		{"disabled", false, true}, // not a number
	} {
		got, err := disabled(tc.uac)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("disabled(%q) = %v, %v; want %v (error %v)", tc.uac, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFileTime(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in          string
		wantTime    time.Time
		never       bool
		wantErr     bool
		wantExpired bool
	}{
		{"0", time.Time{}, true, false, false},
		{"9223372036854775807", time.Time{}, true, false, false},
		{"", time.Time{}, true, false, false},
		{"116444736000000000", time.Unix(0, 0).UTC(), false, false, true}, // the Unix epoch
		{"130000000000000000", time.Date(2012, 12, 14, 23, 6, 40, 0, time.UTC), false, false, true},
		{"159000000000000000", time.Date(2104, 11, 7, 18, 40, 0, 0, time.UTC), false, false, false},
		{"134089920000000000", time.Date(2025, 11, 30, 16, 0, 0, 0, time.UTC), false, false, true},
		{"139990000000000001", time.Date(2044, 8, 11, 11, 6, 40, 100, time.UTC), false, false, false}, // 100 ns ticks kept
		{"soon", time.Time{}, false, true, false},
	} {
		got, never, err := parseFileTime(tc.in)
		if (err != nil) != tc.wantErr || never != tc.never || !got.Equal(tc.wantTime) {
			t.Errorf("parseFileTime(%q) = %v, never %v, %v; want %v never %v", tc.in, got, never, err, tc.wantTime, tc.never)
		}
		exp, err := expired(tc.in, now)
		if (err != nil) != tc.wantErr || exp != tc.wantExpired {
			t.Errorf("expired(%q) = %v, %v; want %v", tc.in, exp, err, tc.wantExpired)
		}
	}
}

func TestGeneralizedTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"20261125122610.0Z", time.Date(2026, 11, 25, 12, 26, 10, 0, time.UTC), true},
		{"20261125122610Z", time.Date(2026, 11, 25, 12, 26, 10, 0, time.UTC), true},
		{"20261125122610.5Z", time.Date(2026, 11, 25, 12, 26, 10, 500_000_000, time.UTC), true},
		{"20261125122610.0", time.Time{}, false}, // no zone
		{"2026-11-25", time.Time{}, false},
	} {
		got, err := parseGeneralizedTime(tc.in)
		if (err == nil) != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseGeneralizedTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestSplitAttrRanges(t *testing.T) {
	for _, tc := range []struct {
		desc      string
		name      string
		rng       attrRange
		hasRange  bool
		wellFormd bool
	}{
		{"member", "member", attrRange{}, false, true},
		{"member;range=0-1499", "member", attrRange{0, 1499, false}, true, true},
		{"member;range=1500-2999", "member", attrRange{1500, 2999, false}, true, true},
		{"member;range=4500-*", "member", attrRange{4500, -1, true}, true, true},
		{"Member;Range=0-*", "Member", attrRange{0, -1, true}, true, true},
		{"member;binary;range=3-4", "member", attrRange{3, 4, false}, true, true},
		{"member;range=abc", "member", attrRange{}, true, false},
		{"member;range=5-2", "member", attrRange{}, true, false},
		{"member;range=-1-3", "member", attrRange{}, true, false},
		{"member;range=1-x", "member", attrRange{}, true, false},
	} {
		name, rng, has, ok := splitAttr(tc.desc)
		if name != tc.name || rng != tc.rng || has != tc.hasRange || ok != tc.wellFormd {
			t.Errorf("splitAttr(%q) = %q %+v %v %v; want %q %+v %v %v", tc.desc, name, rng, has, ok, tc.name, tc.rng, tc.hasRange, tc.wellFormd)
		}
	}
	if got := rangeAttr("member", 1500, 1500); got != "member;range=1500-2999" {
		t.Errorf("rangeAttr = %q", got)
	}
}

func TestParseExtendedDN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want extendedDN
		ok   bool
	}{
		{"<GUID=BA48B342-1fd7-436a-bd26-fe5fbf30dee0>;<SID=S-1-5-21-1-2-3-1103>;CN=User 00002,OU=Support,DC=example,DC=test",
			extendedDN{GUID: "ba48b342-1fd7-436a-bd26-fe5fbf30dee0", SID: "S-1-5-21-1-2-3-1103", DN: "CN=User 00002,OU=Support,DC=example,DC=test"}, true},
		{"<GUID=783d65fe-c20d-450e-bb74-27aaa4605169>;CN=Jackson\\, François,OU=Sales,DC=example,DC=test",
			extendedDN{GUID: "783d65fe-c20d-450e-bb74-27aaa4605169", DN: "CN=Jackson\\, François,OU=Sales,DC=example,DC=test"}, true},
		{"CN=Plain,DC=example,DC=test", extendedDN{DN: "CN=Plain,DC=example,DC=test"}, false},
		{"<GUID=nothex>;CN=X", extendedDN{DN: "<GUID=nothex>;CN=X"}, false},
		{"<GUID=783d65fe-c20d-450e-bb74-27aaa4605169", extendedDN{DN: "<GUID=783d65fe-c20d-450e-bb74-27aaa4605169"}, false},
		{"", extendedDN{}, false},
	} {
		got, ok := parseExtendedDN(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseExtendedDN(%q) = %+v %v; want %+v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBindProblemInWords(t *testing.T) {
	for _, tc := range []struct{ diag, code, words string }{
		{"80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 52e, v3839", "52e", "the password is wrong (or the user does not exist)"},
		{"80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 775, v4563", "775", "the account is locked out"},
		{"80090308: LdapErr: DSID-0C090447, comment: AcceptSecurityContext error, data 533, v3839\x00", "533", "the account is disabled"},
		{"... data 773, v2580", "773", "the account's password must be changed before it can log on"},
		{"... data 701 ", "701", "the account has expired"},
		{"Invalid credentials", "", ""},
		{"... data 999, v1", "999", ""},
	} {
		code, words := bindProblem(tc.diag)
		if code != tc.code || words != tc.words {
			t.Errorf("bindProblem(%q) = %q %q; want %q %q", tc.diag, code, words, tc.code, tc.words)
		}
	}
}
