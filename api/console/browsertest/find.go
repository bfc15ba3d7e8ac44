package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// A kind of control is the ARIA roles a person would call by one name.
type kind struct {
	what  string // in messages: "field", "button"
	roles []string
}

var (
	// field: what takes typed text. A password input is a textbox too.
	field  = kind{"field", []string{"textbox", "searchbox", "combobox", "spinbutton"}}
	button = kind{"button", []string{"button"}}
	link   = kind{"link", []string{"link"}}
	// choice: a <select>, single (combobox) or multiple (listbox).
	choice = kind{"list", []string{"combobox", "listbox"}}
	// tick: what is on or off.
	tick = kind{"checkbox", []string{"checkbox", "radio", "switch"}}
)

// Fill types value into the field whose accessible name is label (its
// <label>, aria-label or aria-labelledby), after clearing it.
func (b *Browser) Fill(label, value string) {
	b.t.Helper()
	node := b.find(field, label)
	// Emptied in the page first: chromedp.Clear resets only the value
	// attribute, which leaves what was typed.
	clear := callOn[chromedp.Void](node, `function() { this.value = ""; }`)
	if err := chromedp.Do(b.ctx, clear, chromedp.SendKeys(node, value)); err != nil {
		b.t.Fatalf("browsertest: fill the field %q: %v", label, b.explain(err))
	}
}

// Click clicks the button whose accessible name is name, with the mouse
// at its centre.
func (b *Browser) Click(name string) {
	b.t.Helper()
	b.click(button, name)
}

// Submit clicks the button whose accessible name is name, which must load
// a new page (a form's submit button), waits up to b.Wait for that page and
// returns its HTTP status after redirects. Unlike Click, no later step can
// meet the page the click left.
func (b *Browser) Submit(name string) int {
	b.t.Helper()
	node := b.find(button, name)
	ctx, cancel := context.WithTimeout(b.ctx, b.Wait)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(node, chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("browsertest: submit with the button %q (no new page within %v?): %v", name, b.Wait, b.explain(err))
	}
	return int(resp.Status)
}

// ClickLink clicks the link whose accessible name is name.
func (b *Browser) ClickLink(name string) {
	b.t.Helper()
	b.click(link, name)
}

func (b *Browser) click(k kind, name string) {
	b.t.Helper()
	node := b.find(k, name)
	if err := chromedp.Do(b.ctx, chromedp.Click(node, chromedp.NodeVisible)); err != nil {
		b.t.Fatalf("browsertest: click the %s %q: %v", k.what, name, b.explain(err))
	}
}

// HasControl reports whether the page shows, now, a control of role role
// (an ARIA role: "button", "textbox", "link", ...) named name; for tests
// that check that something is absent.
func (b *Browser) HasControl(role, name string) bool {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, queryAX(name, kind{role, []string{role}}))
	if err != nil {
		b.t.Fatalf("browsertest: look for the %s %q: %v", role, name, b.explain(err))
	}
	return len(got) > 0
}

// find waits up to b.Wait for exactly one control of kind k named name and
// returns it; none or several fail the test, with the names the page has.
func (b *Browser) find(k kind, name string) chromedp.NodeIDs {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Wait)
	defer cancel()
	for {
		found, err := chromedp.Run(ctx, queryAX(name, k))
		switch {
		case err == nil && len(found) == 1:
			ids, err := chromedp.Run(ctx, pushNodes(found))
			if err == nil {
				return ids
			}
			if !betweenPages(err) {
				b.t.Fatalf("browsertest: the %s %q: %v", k.what, name, b.explain(err))
			}
		case err == nil && len(found) > 1:
			b.t.Fatalf("browsertest: %d %ss are named %q; a person could not tell them apart either", len(found), k.what, name)
		case err != nil && !errors.Is(err, context.DeadlineExceeded) && !betweenPages(err):
			b.t.Fatalf("browsertest: look for the %s %q: %v", k.what, name, b.explain(err))
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("browsertest: no %s named %q after %v; the page's %ss: %s",
				k.what, name, b.Wait, k.what, b.namesOf(k))
		case <-time.After(pollInterval):
		}
	}
}

// namesOf lists the accessible names of the page's controls of kind k.
func (b *Browser) namesOf(k kind) string {
	found, err := chromedp.Run(b.ctx, queryAX("", k))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	var names []string
	for _, m := range found {
		names = append(names, fmt.Sprintf("%q", m.name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// axMatch is a control in the accessibility tree.
type axMatch struct {
	backend cdp.BackendNodeID
	name    string
}

// axGroup names the page objects a lookup holds, released after it.
const axGroup = "browsertest"

// queryAX asks the browser's accessibility tree, as assistive technology
// sees the page, for the visible controls of kind k named name (any name
// when name is empty).
func queryAX(name string, k kind) chromedp.Action[[]axMatch] {
	return func(ctx context.Context, t *chromedp.Target) ([]axMatch, error) {
		doc, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: "document", ObjectGroup: axGroup})
		if err != nil {
			return nil, err
		}
		defer cdp.Call(ctx, t, runtime.ReleaseObjectGroup, runtime.ReleaseObjectGroupParams{ObjectGroup: axGroup})
		if doc.Result == nil || doc.Result.ObjectID == "" {
			return nil, nil // between documents
		}
		var out []axMatch
		for _, role := range k.roles {
			res, err := cdp.Call(ctx, t, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{
				ObjectID: runtime.RemoteObjectID(doc.Result.ObjectID), AccessibleName: name, Role: role})
			if err != nil {
				return nil, err
			}
			for _, n := range res.Nodes {
				// The query also returns hidden nodes, which nobody can use.
				if n.Ignored || n.BackendDOMNodeID == 0 {
					continue
				}
				out = append(out, axMatch{backend: n.BackendDOMNodeID, name: axString(n.Name)})
			}
		}
		return out, nil
	}
}

// pushNodes turns accessibility matches into DOM nodes chromedp can act on.
func pushNodes(found []axMatch) chromedp.Action[chromedp.NodeIDs] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.NodeIDs, error) {
		var backend []cdp.BackendNodeID
		for _, m := range found {
			backend = append(backend, m.backend)
		}
		res, err := cdp.Call(ctx, t, dom.PushNodesByBackendIDsToFrontend, dom.PushNodesByBackendIDsToFrontendParams{BackendNodeIDs: backend})
		if err != nil {
			return nil, err
		}
		if slices.Contains(res.NodeIDs, 0) {
			return nil, fmt.Errorf("the node left the page")
		}
		return res.NodeIDs, nil
	}
}

// axString reads a string value of the accessibility tree.
func axString(v *accessibility.Value) string {
	if v == nil {
		return ""
	}
	var s string
	if err := json.Unmarshal(v.Value, &s); err != nil {
		return string(v.Value)
	}
	return s
}

// betweenPages tells the errors of a page that is being replaced (a link
// or a form just loaded the next one: its document and execution context
// are gone) from real failures; a step that meets one looks again.
func betweenPages(err error) bool {
	msg := err.Error()
	for _, s := range []string{"Cannot find context with specified id", "No node with given id", "Could not find node with given id", "Execution context was destroyed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
