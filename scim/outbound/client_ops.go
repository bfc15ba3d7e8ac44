package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const schemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// wireResource is the part of a SCIM resource the engine reads. id and
// active are read leniently: some targets send a numeric id or active as
// the string "True", and one such value must not fail a whole page.
type wireResource struct {
	ID          json.RawMessage `json:"id"`
	ExternalID  string          `json:"externalId"`
	UserName    string          `json:"userName"`
	DisplayName string          `json:"displayName"`
	Active      json.RawMessage `json:"active"`
	Members     []struct {
		Value string `json:"value"`
	} `json:"members"`
}

func toRemote(raw json.RawMessage) (Remote, error) {
	var w wireResource
	if err := json.Unmarshal(raw, &w); err != nil {
		return Remote{}, fmt.Errorf("the target sent a resource that is not a SCIM object: %w", err)
	}
	id := scalarString(w.ID)
	if id == "" {
		return Remote{}, errors.New("the target sent a resource without an id")
	}
	r := Remote{ID: id, ExternalID: w.ExternalID, UserName: w.UserName, DisplayName: w.DisplayName, Raw: raw}
	switch a := strings.ToLower(scalarString(w.Active)); a {
	case "true", "false":
		v := a == "true"
		r.Active = &v
	}
	for _, m := range w.Members {
		if m.Value != "" {
			r.Members = append(r.Members, m.Value)
		}
	}
	return r, nil
}

// scalarString is a JSON string's value, or a number's or boolean's text.
func scalarString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	t := strings.TrimSpace(string(raw))
	if t == "null" || strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return ""
	}
	return t
}

func checkKind(kind string) error {
	if kind != KindUsers && kind != KindGroups {
		return fmt.Errorf("outbound: unknown resource kind %q (want %s or %s)", kind, KindUsers, KindGroups)
	}
	return nil
}

func resourcePath(kind, id string) string { return "/" + kind + "/" + url.PathEscape(id) }

// listPage is an RFC 7644 §3.4.2 ListResponse, with nextCursor for
// cursor paging.
type listPage struct {
	TotalResults *int              `json:"totalResults"`
	Resources    []json.RawMessage `json:"Resources"`
	NextCursor   string            `json:"nextCursor"`
}

// List pages through every resource of kind.
func (c *Client) List(ctx context.Context, kind string, fn func([]Remote) error) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	return c.list(ctx, kind, "", fn)
}

// list pages with the profile's paging; filter is an encoded filter
// parameter value ("" for none). It stops on the last page, an empty
// page or totalResults, and fails on a target that would never end:
// more than MaxPages pages, a repeated cursor, or a page that starts
// with the same resource as the one before (startIndex ignored).
func (c *Client) list(ctx context.Context, kind, filter string, fn func([]Remote) error) error {
	count := c.pageSize()
	cursorMode := c.profile.Paging == PagingCursor
	start, cursor, seen, prevFirst := 1, "", 0, ""
	usedCursors := map[string]bool{}
	for page := 1; ; page++ {
		if page > c.cfg.MaxPages {
			return fmt.Errorf("list %s: the target is still sending pages after %d; giving up", kind, c.cfg.MaxPages)
		}
		q := url.Values{"count": {strconv.Itoa(count)}}
		if filter != "" {
			q.Set("filter", filter)
		}
		raw := q.Encode()
		if cursorMode {
			// The first page is a bare ?cursor, as AWS documents it.
			if cursor == "" {
				raw = "cursor&" + raw
			} else {
				raw = "cursor=" + url.QueryEscape(cursor) + "&" + raw
			}
		} else {
			raw = "startIndex=" + strconv.Itoa(start) + "&" + raw
		}
		var lp listPage
		if err := c.do(ctx, http.MethodGet, "/"+kind, raw, nil, &lp); err != nil {
			return err
		}
		remotes := make([]Remote, 0, len(lp.Resources))
		for _, r := range lp.Resources {
			rem, err := toRemote(r)
			if err != nil {
				return fmt.Errorf("list %s: %w", kind, err)
			}
			remotes = append(remotes, rem)
		}
		if len(remotes) == 0 {
			return nil
		}
		if !cursorMode && remotes[0].ID == prevFirst {
			return fmt.Errorf("list %s: the target answered startIndex=%d with the page it sent before; it does not page by startIndex (try another profile)", kind, start)
		}
		prevFirst = remotes[0].ID
		if err := fn(remotes); err != nil {
			return err
		}
		seen += len(remotes)
		if cursorMode {
			if lp.NextCursor == "" {
				return nil
			}
			if usedCursors[lp.NextCursor] {
				return fmt.Errorf("list %s: the target sent cursor %q twice; it would never end", kind, lp.NextCursor)
			}
			usedCursors[lp.NextCursor] = true
			cursor = lp.NextCursor
			continue
		}
		if lp.TotalResults != nil && seen >= *lp.TotalResults {
			return nil
		}
		start += len(remotes)
	}
}

// Find returns the resources of kind whose attr equals value, with a
// filter attr eq "value" (RFC 7644 §3.4.2.2; the value a JSON string, so
// quotes and backslashes are escaped). An attribute the profile cannot
// filter on is refused here, before anything is sent.
func (c *Client) Find(ctx context.Context, kind, attr, value string) ([]Remote, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	if !c.profile.canFilter(kind, attr) {
		return nil, fmt.Errorf("find %s by %s: the %s profile filters %s only on %v", kind, attr, c.profile.Name, kind, c.profile.FilterAttrs[kind])
	}
	c.mu.Lock()
	noFilter := c.caps != nil && !c.caps.Filter
	c.mu.Unlock()
	if noFilter {
		return nil, fmt.Errorf("find %s by %s: the target's /ServiceProviderConfig says it does not filter", kind, attr)
	}
	if !validAttrPath(attr) {
		return nil, fmt.Errorf("find %s: %q is not an attribute name", kind, attr)
	}
	var quoted bytes.Buffer
	enc := json.NewEncoder(&quoted)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(value); err != nil {
		return nil, fmt.Errorf("find %s: %w", kind, err)
	}
	filter := attr + " eq " + string(bytes.TrimSpace(quoted.Bytes()))
	var out []Remote
	err := c.list(ctx, kind, filter, func(rs []Remote) error {
		out = append(out, rs...)
		return nil
	})
	return out, err
}

// validAttrPath accepts attribute names and dotted sub-attributes
// (RFC 7643 §2.1: ALPHA *(nameChar)), with a schema URN prefix.
func validAttrPath(attr string) bool {
	if attr == "" {
		return false
	}
	for _, r := range attr {
		if !(r == '.' || r == ':' || r == '_' || r == '-' || r == '$' || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z')) {
			return false
		}
	}
	return true
}

// Get reads one resource; a missing one is a *TargetError with 404.
func (c *Client) Get(ctx context.Context, kind, id string) (Remote, error) {
	if err := checkKind(kind); err != nil {
		return Remote{}, err
	}
	return c.send(ctx, http.MethodGet, resourcePath(kind, id), nil)
}

// Create POSTs a resource (RFC 7644 §3.3) and returns what the target
// stored, its id included.
func (c *Client) Create(ctx context.Context, kind string, body json.RawMessage) (Remote, error) {
	if err := checkKind(kind); err != nil {
		return Remote{}, err
	}
	return c.send(ctx, http.MethodPost, "/"+kind, body)
}

// Replace PUTs a resource (RFC 7644 §3.5.1).
func (c *Client) Replace(ctx context.Context, kind, id string, body json.RawMessage) (Remote, error) {
	if err := checkKind(kind); err != nil {
		return Remote{}, err
	}
	return c.send(ctx, http.MethodPut, resourcePath(kind, id), body)
}

// Patch sends a PatchOp request (RFC 7644 §3.5.2); 200 and 204 both
// succeed.
func (c *Client) Patch(ctx context.Context, kind, id string, ops []PatchOp) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	if len(ops) == 0 {
		return nil
	}
	body, err := json.Marshal(struct {
		Schemas    []string  `json:"schemas"`
		Operations []PatchOp `json:"Operations"`
	}{[]string{schemaPatchOp}, ops})
	if err != nil {
		return fmt.Errorf("patch %s %s: %w", kind, id, err)
	}
	return c.do(ctx, http.MethodPatch, resourcePath(kind, id), "", body, nil)
}

// Delete deletes a resource (RFC 7644 §3.6). A 404 counts as done: the
// object is gone either way, which is what the engine asked for (and a
// retried DELETE whose first answer was lost sees exactly that).
func (c *Client) Delete(ctx context.Context, kind, id string) error {
	if err := checkKind(kind); err != nil {
		return err
	}
	err := c.do(ctx, http.MethodDelete, resourcePath(kind, id), "", nil, nil)
	var te *TargetError
	if errors.As(err, &te) && te.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// send does a request whose answer is one resource.
func (c *Client) send(ctx context.Context, method, path string, body []byte) (Remote, error) {
	var raw json.RawMessage
	if err := c.do(ctx, method, path, "", body, &raw); err != nil {
		return Remote{}, err
	}
	if len(raw) == 0 {
		err := fmt.Errorf("%s %s: the target answered without the resource", method, path)
		if method == http.MethodPost {
			err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		return Remote{}, err
	}
	r, err := toRemote(raw)
	if err != nil {
		err = fmt.Errorf("%s %s: %w", method, path, err)
		if method == http.MethodPost {
			// It was created, but we cannot tell its id.
			err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		return Remote{}, err
	}
	return r, nil
}
