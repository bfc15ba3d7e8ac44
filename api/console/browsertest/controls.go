package browsertest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Select chooses, in the list (a <select>) whose accessible name is label,
// the option whose visible text is option, as a person picking it would:
// the page sees input and change events.
func (b *Browser) Select(label, option string) {
	b.t.Helper()
	node := b.find(choice, label)
	options, err := chromedp.Run(b.ctx, callOn[[]string](node, `function(want) {
		const opt = [...this.options].find((o) => o.text.trim() === want);
		if (!opt) return [...this.options].map((o) => o.text.trim());
		opt.selected = true;
		this.dispatchEvent(new Event("input", {bubbles: true}));
		this.dispatchEvent(new Event("change", {bubbles: true}));
		return null;
	}`, option))
	switch {
	case err != nil:
		b.t.Fatalf("browsertest: choose %q in %q: %v", option, label, b.explain(err))
	case options != nil:
		b.t.Fatalf("browsertest: the list %q has no option %q; it has %q", label, option, options)
	}
}

// SetChecked ticks (on) or clears the checkbox, radio button or switch
// whose accessible name is label, by clicking it when it is not so yet.
func (b *Browser) SetChecked(label string, on bool) {
	b.t.Helper()
	node := b.find(tick, label)
	checked, err := chromedp.Run(b.ctx, callOn[bool](node, `function() { return this.checked; }`))
	if err != nil {
		b.t.Fatalf("browsertest: read the checkbox %q: %v", label, b.explain(err))
	}
	if checked == on {
		return
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(node, chromedp.NodeVisible)); err != nil {
		b.t.Fatalf("browsertest: click the checkbox %q: %v", label, b.explain(err))
	}
}

// Value is what the field or list whose accessible name is label holds
// now (for a list, the chosen option's value), e.g. a secret shown once in
// a read-only field.
func (b *Browser) Value(label string) string {
	b.t.Helper()
	node := b.find(kind{"field", append(field.roles, "listbox")}, label)
	v, err := chromedp.Run(b.ctx, callOn[string](node, `function() { return this.value; }`))
	if err != nil {
		b.t.Fatalf("browsertest: read the field %q: %v", label, b.explain(err))
	}
	return v
}

// callOn runs the JavaScript function fn with the element ids[0] as this
// and args as its arguments, and decodes what it returns into T
// (chromedp.Void: nothing).
func callOn[T any](ids chromedp.NodeIDs, fn string, args ...any) chromedp.Action[T] {
	return func(ctx context.Context, t *chromedp.Target) (T, error) {
		var out T
		obj, err := cdp.Call(ctx, t, dom.ResolveNode, dom.ResolveNodeParams{NodeID: ids[0], ObjectGroup: axGroup})
		if err != nil {
			return out, err
		}
		defer cdp.Call(ctx, t, runtime.ReleaseObjectGroup, runtime.ReleaseObjectGroupParams{ObjectGroup: axGroup})
		var callArgs []*runtime.CallArgument
		for _, a := range args {
			raw, err := json.Marshal(a)
			if err != nil {
				return out, err
			}
			callArgs = append(callArgs, &runtime.CallArgument{Value: raw})
		}
		byValue := true
		res, err := cdp.Call(ctx, t, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
			FunctionDeclaration: fn, ObjectID: runtime.RemoteObjectID(obj.Object.ObjectID),
			Arguments: callArgs, ReturnByValue: &byValue})
		if err != nil {
			return out, err
		}
		if res.ExceptionDetails != nil {
			return out, fmt.Errorf("in the page: %s", res.ExceptionDetails.Text)
		}
		if _, void := any(out).(chromedp.Void); void || res.Result == nil || len(res.Result.Value) == 0 {
			return out, nil
		}
		if err := json.Unmarshal(res.Result.Value, &out); err != nil {
			return out, fmt.Errorf("the page's answer %s: %w", res.Result.Value, err)
		}
		return out, nil
	}
}
