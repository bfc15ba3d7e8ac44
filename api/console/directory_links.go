package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// A user's provenance on its page (identity linking): the sources that
// contribute to it, each attribute's source, and splitting a source off
// (POST /api/v1/users/{id}/unlink).

// provenanceView is GET /api/v1/users/{id}/provenance.
type provenanceView struct {
	Contributions []contributionView             `json:"contributions"`
	Attributes    map[string]attributeOriginView `json:"attributes"`
}

type contributionView struct {
	Source      string     `json:"source"`
	SourceName  string     `json:"sourceName"`
	SourceKey   string     `json:"sourceKey"`
	LinkedBy    string     `json:"linkedBy"`
	Deactivated *time.Time `json:"deactivated"`
}

// SourcePage is the console page of the contributing source; "" for a
// user a push client wrote (its Source is the client's owner tag).
func (c contributionView) SourcePage() string {
	if strings.HasPrefix(c.Source, storage.ClientOwnerPrefix) {
		return ""
	}
	return Prefix + "/sources/" + url.PathEscape(c.Source)
}

// Name is the source's name, or its id when it has none (a deleted
// source's contribution).
func (c contributionView) Name() string {
	if c.SourceName != "" {
		return c.SourceName
	}
	return c.Source
}

type attributeOriginView struct {
	Source     string `json:"source"`
	SourceName string `json:"sourceName"`
}

// Linked reports whether several sources make the user, which is when
// the page names each attribute's source and offers to split one off.
func (p provenanceView) Linked() bool { return len(p.Contributions) > 1 }

// annotate names, on each fact of a linked user, the source its attribute
// came from.
func (p provenanceView) annotate(facts []fact) {
	if !p.Linked() {
		return
	}
	for i := range facts {
		if o, ok := p.Attributes[mergeAttributeOf(facts[i].Name)]; ok {
			facts[i].From, facts[i].FromID = o.SourceName, o.Source
		}
	}
}

// mergeAttributeOf is the attribute a fact ("name.givenName",
// "enterprise.manager.value") belongs to, as the merge and provenance
// spell it ("name", the enterprise schema's "...:manager").
func mergeAttributeOf(factName string) string {
	top, rest, _ := strings.Cut(factName, ".")
	if top == "enterprise" {
		sub, _, _ := strings.Cut(rest, ".")
		return storage.EnterpriseSchema + ":" + sub
	}
	return top
}

// unlinkUser splits the posted source's contribution off the user and
// goes back to the user's page, which no longer lists it.
func (u *Console) unlinkUser(c echo.Context) error {
	id, source := c.Param("id"), c.FormValue("source")
	if source == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "No source was named; go back to the user and use a source's Unlink button.")
	}
	res, err := u.call(c, http.MethodPost, "/users/"+url.PathEscape(id)+"/unlink", map[string]string{"source": source})
	if err != nil {
		return err
	}
	var split struct {
		ID         string `json:"id"`
		UserName   string `json:"userName"`
		SourceName string `json:"sourceName"`
	}
	if err := res.Decode(&split); err != nil {
		return err
	}
	return u.redirect(c, "/directory/users/"+url.PathEscape(id),
		"Split "+split.SourceName+" off: its record is now the user "+split.UserName+" ("+split.ID+"), kept apart on later runs.")
}
