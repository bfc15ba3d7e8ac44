package scim

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// etag renders a version as a weak entity tag (RFC 7232), as RFC 7644 §3.14
// suggests for SCIM versions.
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// etagMatches reports whether header (If-Match / If-None-Match) lists
// version, using weak comparison; "*" matches any existing resource.
func etagMatches(header string, version int64) bool {
	want := strconv.FormatInt(version, 10)
	for _, part := range strings.Split(header, ",") {
		tag := strings.TrimSpace(part)
		if tag == "*" {
			return true
		}
		tag = strings.TrimPrefix(tag, "W/")
		if strings.Trim(tag, `"`) == want {
			return true
		}
	}
	return false
}

// notModified answers 304 when If-None-Match lists the current version.
func notModified(w http.ResponseWriter, r *http.Request, version int64) bool {
	inm := r.Header.Get("If-None-Match")
	if inm == "" || !etagMatches(inm, version) {
		return false
	}
	w.Header().Set("ETag", etag(version))
	w.WriteHeader(http.StatusNotModified)
	return true
}

// writeCheck enforces ownership and If-Match inside the store's write
// transaction, so nobody can slip a change in between.
func writeCheck(r *http.Request, caller Caller) storage.Check {
	ifMatch := r.Header.Get("If-Match")
	return func(owner string, meta storage.Meta) error {
		if owner != caller.Owner {
			return Error(http.StatusForbidden, "", "this resource is owned by "+describeOwner(owner)+"; only its owner may change it")
		}
		if ifMatch != "" && !etagMatches(ifMatch, meta.Version) {
			return storage.ErrPrecondition
		}
		return nil
	}
}

// describeOwner turns an owner tag into words for error details.
func describeOwner(owner string) string {
	if name, ok := strings.CutPrefix(owner, storage.ClientOwnerPrefix); ok {
		return "the SCIM client " + strconv.Quote(name)
	}
	return "source " + strconv.Quote(owner)
}
