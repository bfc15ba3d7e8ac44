package outbound

import (
	"context"
	"fmt"
	"slices"

	"github.com/scimgate/scimgate/storage"
)

// collectRetries notes the objects a previous run left failed or still
// creating: an incremental run takes them up again, though the view has
// not changed them since.
func (p *push) collectRetries(ctx context.Context) error {
	for _, kind := range []string{storage.MemberUser, storage.MemberGroup} {
		err := p.e.store.EachPushObject(ctx, p.app.ID, kind, func(o storage.PushObject) error {
			if o.Error != "" || o.State == storage.PushCreating {
				p.retry[kind] = append(p.retry[kind], o.LocalID)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read push bookkeeping: %w", err)
		}
	}
	return nil
}

// viewQueries are the queries whose pages a run pushes: the whole view
// (full runs), or the retries and what changed since the watermark.
func (p *push) viewQueries(kind string) []storage.Query {
	base := storage.Query{View: p.app.ID, Limit: p.e.opts.PageSize, NoTotal: true}
	if p.full {
		return []storage.Query{base}
	}
	var qs []storage.Query
	retry := p.retry[kind]
	for len(retry) > 0 {
		n := min(len(retry), p.e.opts.PageSize)
		q := base
		q.Filter = storage.In{Attr: storage.AttrID, Values: slices.Clone(retry[:n])}
		qs = append(qs, q)
		retry = retry[n:]
	}
	changed := base
	changed.Filter = storage.Compare{Attr: storage.AttrLastModified, Op: storage.OpGt, Value: p.since}
	return append(qs, changed)
}

// pushUsers pushes the users of the view, a page at a time.
func (p *push) pushUsers(ctx context.Context) error {
	for _, q := range p.viewQueries(storage.MemberUser) {
		for {
			page, err := p.e.store.ListUsers(ctx, q)
			if err != nil {
				return fmt.Errorf("read the view's users: %w", err)
			}
			items := make([]item, 0, len(page.Users))
			for _, d := range page.Users {
				b, err := p.r.user(d)
				if err != nil {
					return err
				}
				it, err := newItem(storage.MemberUser, d.ID, b)
				if err != nil {
					return fmt.Errorf("user %s: %w", d.ID, err)
				}
				it.departed = d.Departed
				items = append(items, it)
			}
			if len(items) > 0 {
				if _, err := p.pushItems(ctx, storage.MemberUser, items); err != nil {
					return err
				}
			}
			if !page.Bounds.More || len(page.Users) == 0 {
				break
			}
			last := page.Bounds.Last
			q.After = &last
		}
	}
	return nil
}
