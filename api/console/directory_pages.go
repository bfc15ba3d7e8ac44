package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"
)

// memberPageSize is how many members one page of a group's page lists.
const memberPageSize = 50

type directoryUserPage struct {
	User       scimUser
	Resource   resourcePage
	Detail     directoryUserView
	Provenance provenanceView
}

func (u *Console) directoryUser(c echo.Context) error {
	id := c.Param("id")
	raw, err := u.scimResource(c, "Users", id, "")
	if err != nil {
		return err
	}
	p := directoryUserPage{}
	if err := raw.Decode(&p.User); err != nil {
		return err
	}
	if p.Resource, err = resourcePageOf(raw.Body); err != nil {
		return err
	}
	if err := u.get(c, "/users/"+url.PathEscape(id), &p.Detail); err != nil {
		return err
	}
	if err := u.get(c, "/users/"+url.PathEscape(id)+"/provenance", &p.Provenance); err != nil {
		return err
	}
	p.Provenance.annotate(p.Resource.Facts)
	return u.render(c, http.StatusOK, "directory_user.html", page{Title: p.User.UserName, Nav: "directory", Data: p})
}

type directoryGroupPage struct {
	Group    scimGroup
	Resource resourcePage
	Detail   directoryGroupView
	From, To int
	Pager    dirPager
}

func (u *Console) directoryGroup(c echo.Context) error {
	id := c.Param("id")
	offset := 0
	if n, err := strconv.Atoi(c.QueryParam("from")); err == nil && n > 0 {
		offset = n
	}
	raw, err := u.scimResource(c, "Groups", id, "members")
	if err != nil {
		return err
	}
	p := directoryGroupPage{}
	if err := raw.Decode(&p.Group); err != nil {
		return err
	}
	if p.Resource, err = resourcePageOf(raw.Body); err != nil {
		return err
	}
	q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(memberPageSize)}}
	if err := u.get(c, "/groups/"+url.PathEscape(id)+"?"+q.Encode(), &p.Detail); err != nil {
		return err
	}
	self := Prefix + "/directory/groups/" + url.PathEscape(id)
	if n := len(p.Detail.Members); n > 0 {
		p.From, p.To = offset+1, offset+n
	}
	p.Pager.Label = "Pages of members"
	if offset > 0 {
		p.Pager.Prev = self + "?from=" + strconv.Itoa(max(0, offset-memberPageSize))
	}
	if p.To > 0 && p.To < p.Detail.MemberCount {
		p.Pager.Next = self + "?from=" + strconv.Itoa(p.To)
	}
	return u.render(c, http.StatusOK, "directory_group.html", page{Title: p.Group.DisplayName, Nav: "directory", Data: p})
}

// scimResource reads one resource over SCIM; a 404 becomes a page that
// says where to look instead.
func (u *Console) scimResource(c echo.Context, resource, id, exclude string) (Response, error) {
	path := "/scim/v2/" + resource + "/" + url.PathEscape(id)
	if exclude != "" {
		path += "?" + url.Values{"excludedAttributes": {exclude}}.Encode()
	}
	res, err := u.call(c, http.MethodGet, path, nil)
	if err != nil {
		return Response{}, err
	}
	if res.Status == http.StatusNotFound {
		what := "user"
		if resource == "Groups" {
			what = "group"
		}
		return Response{}, &APIError{Status: http.StatusNotFound, Code: "not_found",
			Message: "There is no " + what + " with id " + strconv.Quote(id) + ". It may have been deleted; search the directory for it."}
	}
	if !res.OK() {
		return Response{}, res.Err()
	}
	return res, nil
}
